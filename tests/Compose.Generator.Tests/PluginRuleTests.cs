using Compose.Generator.Analyzers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;
using static Compose.Generator.Tests.Verifier;

namespace Compose.Generator.Tests;

/// <summary>
/// Every per-plugin rule of <see cref="PluginDeclarationAnalyzer"/> at its exact span (markup), with its message, and
/// a similar correct declaration that is not flagged.
/// </summary>
public sealed class PluginRuleTests
{
    private const string Init = "public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken) => Task.CompletedTask;";

    private static DiagnosticResult At(DiagnosticDescriptor descriptor, int location, params object[] arguments)
        => new DiagnosticResult(descriptor).WithLocation(location).WithArguments(arguments);

    [Theory]
    [InlineData("MyPlugin", "my-plugin")]
    [InlineData("my.plugin", "my-plugin")]
    [InlineData("my plugin", "my-plugin")]
    [InlineData("LLMProxy", "llm-proxy")]
    [InlineData("", "sample")]
    [InlineData("été", "t")]
    public Task CMP0001_OnTheIdArgument(string id, string suggestion)
        => AnalyzeAsync<PluginDeclarationAnalyzer>(
            $$"""
            [ServerPlugin({|#0:"{{id}}"|}, Name = "Sample")]
            public sealed class SamplePlugin : IServerPlugin { {{Init}} }
            """,
            At(ComposeDiagnostics.InvalidPluginId, 0, "SamplePlugin", id, suggestion));

    [Fact]
    public Task CMP0001_NullIdIsInvalid()
        => AnalyzeAsync<PluginDeclarationAnalyzer>(
            $$"""
            [ServerPlugin({|#0:null!|})]
            public sealed class SamplePlugin : IServerPlugin { {{Init}} }
            """,
            At(ComposeDiagnostics.InvalidPluginId, 0, "SamplePlugin", "", "sample"));

    [Theory]
    [InlineData("my-plugin")]
    [InlineData("llm_proxy")]
    [InlineData("image-cache-v2")]
    [InlineData("0")]
    public Task CMP0001_ValidIdsAreAccepted(string id)
        => AnalyzeAsync<PluginDeclarationAnalyzer>($$"""
            [ServerPlugin("{{id}}")]
            public sealed class SamplePlugin : IServerPlugin { {{Init}} }
            """);

    [Fact]
    public Task CMP0001_IdTheCompilerCannotBindIsLeftToTheCompiler()
        => AnalyzeAsync<PluginDeclarationAnalyzer>(
            $$"""
            [ServerPlugin({|CS0103:Missing|})]
            public sealed class SamplePlugin : IServerPlugin { {{Init}} }
            """);

    [Fact]
    public Task CMP0002_DuplicateIdInOneProjectOnTheLaterId()
        => AnalyzeAsync<PluginDeclarationAnalyzer>(
            $$"""
            [ServerPlugin("notes")] public sealed class FirstPlugin : IServerPlugin { {{Init}} }
            [ServerPlugin({|#0:"notes"|})] public sealed class SecondPlugin : IServerPlugin { {{Init}} }
            """,
            At(ComposeDiagnostics.DuplicatePluginId, 0, "notes", "FirstPlugin", "SecondPlugin"));

    [Fact]
    public Task CMP0002_DistinctIdsAreAccepted()
        => AnalyzeAsync<PluginDeclarationAnalyzer>($$"""
            [ServerPlugin("notes")] public sealed class FirstPlugin : IServerPlugin { {{Init}} }
            [ServerPlugin("notes-2")] public sealed class SecondPlugin : IServerPlugin { {{Init}} }
            """);

    [Theory]
    [InlineData("internal sealed class {|#0:SamplePlugin|} : IServerPlugin { INIT }", "not public")]
    [InlineData("public abstract class {|#0:SamplePlugin|} : IServerPlugin { INIT }", "abstract")]
    [InlineData("public sealed class {|#0:SamplePlugin|}<T> : IServerPlugin { INIT }", "generic")]
    public Task CMP0003_OnTheClassIdentifier(string declaration, string reason)
        => AnalyzeAsync<PluginDeclarationAnalyzer>(
            "[ServerPlugin(\"sample\")] " + declaration.Replace("INIT", Init, StringComparison.Ordinal),
            At(ComposeDiagnostics.PluginNotComposable, 0, declaration.Contains("<T>", StringComparison.Ordinal) ? "SamplePlugin<T>" : "SamplePlugin", reason));

    [Fact]
    public Task CMP0003_NestedInANonPublicType()
        => AnalyzeAsync<PluginDeclarationAnalyzer>(
            $$"""internal static class Outer { [ServerPlugin("sample")] public sealed class {|#0:SamplePlugin|} : IServerPlugin { {{Init}} } }""",
            At(ComposeDiagnostics.PluginNotComposable, 0, "Outer.SamplePlugin", "nested in the non-public type Outer"));

    [Fact]
    public Task CMP0003_StaticClassIsNotAlsoToldToImplementTheInterface()
        => AnalyzeAsync<PluginDeclarationAnalyzer>(
            """[ServerPlugin("sample")] public static class {|#0:SamplePlugin|} { }""",
            At(ComposeDiagnostics.PluginNotComposable, 0, "SamplePlugin", "static"),
            At(ComposeDiagnostics.MissingInterface, 0, "SamplePlugin"));

    [Fact]
    public Task CMP0003_PublicClassNestedInPublicTypeIsAccepted()
        => AnalyzeAsync<PluginDeclarationAnalyzer>($$"""
            public static class Outer { [ServerPlugin("sample")] public sealed class SamplePlugin : IServerPlugin { {{Init}} } }
            """);

    [Fact]
    public Task CMP0004_OnTheClassIdentifier()
        => AnalyzeAsync<PluginDeclarationAnalyzer>(
            $$"""
            [ServerPlugin("sample")]
            public sealed class {|#0:SamplePlugin|} { {{Init}} }
            """,
            At(ComposeDiagnostics.MissingInterface, 0, "SamplePlugin"));

    [Fact]
    public Task CMP0004_IsTheOnlyDiagnosticForAnExitAsyncThatCannotImplementAMissingInterface()
        => AnalyzeAsync<PluginDeclarationAnalyzer>(
            $$"""
            [ServerPlugin("sample")]
            public sealed class {|#0:SamplePlugin|} { public Task ExitAsync(CancellationToken cancellationToken) => Task.CompletedTask; {{Init}} }
            """,
            At(ComposeDiagnostics.MissingInterface, 0, "SamplePlugin"));

    [Fact]
    public Task CMP0004_InterfaceThroughABaseClassIsAccepted()
        => AnalyzeAsync<PluginDeclarationAnalyzer>($$"""
            public abstract class PluginBase : IServerPlugin { public abstract Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken); }
            [ServerPlugin("sample")]
            public sealed class SamplePlugin : PluginBase { public override Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken) => Task.CompletedTask; }
            """);

    [Fact]
    public Task CMP0004_BaseTypeTheCompilerCannotFindIsNoCascade()
        => AnalyzeAsync<PluginDeclarationAnalyzer>($$"""
            [ServerPlugin("sample")]
            public sealed class SamplePlugin : {|CS0246:IServerPlugn|} { {{Init}} }
            """);

    [Fact]
    public Task CMP0005_NoPublicConstructorOnTheClassIdentifier()
        => AnalyzeAsync<PluginDeclarationAnalyzer>(
            $$"""
            [ServerPlugin("sample")]
            public sealed class {|#0:SamplePlugin|} : IServerPlugin { private SamplePlugin() { } {{Init}} }
            """,
            At(ComposeDiagnostics.NoPublicConstructor, 0, "SamplePlugin"));

    [Fact]
    public Task CMP0005_SeveralPublicConstructorsOnEachExtraOne()
        => AnalyzeAsync<PluginDeclarationAnalyzer>(
            $$"""
            [ServerPlugin("sample")]
            public sealed class SamplePlugin : IServerPlugin
            {
                public SamplePlugin() { }
                public {|#0:SamplePlugin|}(ILogger<SamplePlugin> logger) { }
                public {|#1:SamplePlugin|}(TimeProvider time) { }
                {{Init}}
            }
            """,
            At(ComposeDiagnostics.SeveralPublicConstructors, 0, "SamplePlugin", 3),
            At(ComposeDiagnostics.SeveralPublicConstructors, 1, "SamplePlugin", 3));

    [Theory]
    [InlineData("ref int value", "value", "a ref parameter")]
    [InlineData("out int value", "value", "an out parameter")]
    [InlineData("in TimeSpan delay", "delay", "an in parameter")]
    [InlineData("params string[] names", "names", "a params parameter")]
    public Task CMP0005_UninjectableParameterOnTheParameter(string parameter, string name, string problem)
        => AnalyzeAsync<PluginDeclarationAnalyzer>(
            $$"""
            [ServerPlugin("sample")]
            public sealed class SamplePlugin : IServerPlugin
            {
                public SamplePlugin(ILogger<SamplePlugin> logger, {|#0:{{parameter}}|}) { {{(parameter.StartsWith("out", StringComparison.Ordinal) ? "value = 0;" : "")}} }
                {{Init}}
            }
            """,
            At(ComposeDiagnostics.UninjectableParameter, 0, "SamplePlugin", name, problem));

    [Fact]
    public Task CMP0005_OnePublicConstructorBesidePrivateOnesIsAccepted()
        => AnalyzeAsync<PluginDeclarationAnalyzer>($$"""
            [ServerPlugin("sample")]
            public sealed class SamplePlugin : IServerPlugin
            {
                public SamplePlugin(ILogger<SamplePlugin> logger) : this() => _ = logger;
                private SamplePlugin() { }
                {{Init}}
            }
            """);

    [Fact]
    public Task CMP0005_ParameterTypeTheCompilerCannotFindIsNoCascade()
        => AnalyzeAsync<PluginDeclarationAnalyzer>($$"""
            [ServerPlugin("sample")]
            public sealed class SamplePlugin({|CS0246:IBookmarkStore|} store) : IServerPlugin { {{Init}} }
            """);

    [Fact]
    public Task CMP0006_ParameterCount()
        => AnalyzeAsync<PluginDeclarationAnalyzer>(
            $$"""
            [ServerPlugin("sample")]
            public sealed class SamplePlugin : IServerPlugin { public static void {|#0:ConfigureServices|}(IServiceCollection services) { } {{Init}} }
            """,
            At(ComposeDiagnostics.ConfigureServicesParameterCount, 0, "SamplePlugin", "one parameter"));

    [Fact]
    public Task CMP0006_ParametersSwapped()
        => AnalyzeAsync<PluginDeclarationAnalyzer>(
            $$"""
            [ServerPlugin("sample")]
            public sealed class SamplePlugin : IServerPlugin { public static void {|#0:ConfigureServices|}(IConfiguration configuration, IServiceCollection services) { } {{Init}} }
            """,
            At(ComposeDiagnostics.ConfigureServicesParametersSwapped, 0, "SamplePlugin"));

    [Fact]
    public Task CMP0006_ParameterTypes()
        => AnalyzeAsync<PluginDeclarationAnalyzer>(
            $$"""
            [ServerPlugin("sample")]
            public sealed class SamplePlugin : IServerPlugin { public static void {|#0:ConfigureServices|}(IServiceCollection services, string section) { } {{Init}} }
            """,
            At(ComposeDiagnostics.ConfigureServicesParameterTypes, 0, "SamplePlugin", "IServiceCollection services, string section"));

    [Fact]
    public Task CMP0006_InstanceMethod()
        => AnalyzeAsync<PluginDeclarationAnalyzer>(
            $$"""
            [ServerPlugin("sample")]
            public sealed class SamplePlugin : IServerPlugin { public void {|#0:ConfigureServices|}(IServiceCollection services, IConfiguration configuration) { } {{Init}} }
            """,
            At(ComposeDiagnostics.ConfigureServicesNotStatic, 0, "SamplePlugin"));

    [Theory]
    [InlineData("internal")]
    [InlineData("private")]
    public Task CMP0006_NotPublic(string accessibility)
        => AnalyzeAsync<PluginDeclarationAnalyzer>(
            $$"""
            [ServerPlugin("sample")]
            public sealed class SamplePlugin : IServerPlugin { {{accessibility}} static void {|#0:ConfigureServices|}(IServiceCollection services, IConfiguration configuration) { } {{Init}} }
            """,
            At(ComposeDiagnostics.ConfigureServicesNotPublic, 0, "SamplePlugin", accessibility));

    [Fact]
    public Task CMP0006_ReturnType()
        => AnalyzeAsync<PluginDeclarationAnalyzer>(
            $$"""
            [ServerPlugin("sample")]
            public sealed class SamplePlugin : IServerPlugin { public static IServiceCollection {|#0:ConfigureServices|}(IServiceCollection services, IConfiguration configuration) => services; {{Init}} }
            """,
            At(ComposeDiagnostics.ConfigureServicesReturnType, 0, "SamplePlugin", "IServiceCollection"));

    [Fact]
    public Task CMP0006_Generic()
        => AnalyzeAsync<PluginDeclarationAnalyzer>(
            $$"""
            [ServerPlugin("sample")]
            public sealed class SamplePlugin : IServerPlugin { public static void {|#0:ConfigureServices|}<T>(IServiceCollection services, IConfiguration configuration) { } {{Init}} }
            """,
            At(ComposeDiagnostics.ConfigureServicesGeneric, 0, "SamplePlugin"));

    [Fact]
    public Task CMP0006_RightSignatureIsAccepted()
        => AnalyzeAsync<PluginDeclarationAnalyzer>($$"""
            [ServerPlugin("sample")]
            public sealed class SamplePlugin : IServerPlugin { public static void ConfigureServices(IServiceCollection services, IConfiguration configuration) { } {{Init}} }
            """);

    [Fact]
    public Task CMP0006_AnOverloadBesideTheRightSignatureIsAccepted()
        => AnalyzeAsync<PluginDeclarationAnalyzer>($$"""
            [ServerPlugin("sample")]
            public sealed class SamplePlugin : IServerPlugin
            {
                public static void ConfigureServices(IServiceCollection services, IConfiguration configuration) => ConfigureServices(services);
                public static void ConfigureServices(IServiceCollection services) { }
                {{Init}}
            }
            """);

    [Fact]
    public Task CMP0006_ParameterTypesTheCompilerCannotFindAreNoCascade()
        => AnalyzeAsync<PluginDeclarationAnalyzer>($$"""
            [ServerPlugin("sample")]
            public sealed class SamplePlugin : IServerPlugin { public static void ConfigureServices({|CS0246:IServiceColection|} services, IConfiguration configuration) { } {{Init}} }
            """);

    [Fact]
    public Task CMP0007_OnTheAttribute()
        => AnalyzeAsync<PluginDeclarationAnalyzer>(
            """
            [{|#0:{|CS0592:ServerPlugin|}("sample")|}]
            public struct SamplePlugin { }
            """,
            At(ComposeDiagnostics.NotAClass, 0, "SamplePlugin", "struct"));

    [Fact]
    public Task CMP0007_RecordClassIsAccepted()
        => AnalyzeAsync<PluginDeclarationAnalyzer>($$"""
            [ServerPlugin("sample")]
            public sealed record SamplePlugin : IServerPlugin { {{Init}} }
            """);

    [Theory]
    [InlineData("public static void {|#0:ConfigureService|}(IServiceCollection services, IConfiguration configuration) { }", "public static void ConfigureService(IServiceCollection services, IConfiguration configuration)")]
    [InlineData("public static void {|#0:configureServices|}(IServiceCollection services, IConfiguration configuration) { }", "public static void configureServices(IServiceCollection services, IConfiguration configuration)")]
    [InlineData("public static void {|#0:ConfigServices|}(IServiceCollection services) { }", "public static void ConfigServices(IServiceCollection services)")]
    public Task CMP0012_NearConfigureServicesOnTheMethodIdentifier(string method, string shown)
        => AnalyzeAsync<PluginDeclarationAnalyzer>(
            $$"""
            [ServerPlugin("sample")]
            public sealed class SamplePlugin : IServerPlugin { {{method}} {{Init}} }
            """,
            new DiagnosticResult(ComposeDiagnostics.NearMissConfigureServices).WithLocation(0).WithArguments("SamplePlugin", "'" + shown + "'").WithSeverity(DiagnosticSeverity.Warning));

    [Theory]
    [InlineData("public Task {|#0:ExitAsync|}() => Task.CompletedTask;", "public Task ExitAsync()")]
    [InlineData("public static Task {|#0:ExitAsync|}(CancellationToken cancellationToken) => Task.CompletedTask;", "public static Task ExitAsync(CancellationToken cancellationToken)")]
    [InlineData("public Task {|#0:ExitAsnyc|}(CancellationToken cancellationToken) => Task.CompletedTask;", "public Task ExitAsnyc(CancellationToken cancellationToken)")]
    [InlineData("public void {|#0:Exit|}() { }", "public void Exit()")]
    public Task CMP0012_NearExitAsyncOnTheMethodIdentifier(string method, string shown)
        => AnalyzeAsync<PluginDeclarationAnalyzer>(
            $$"""
            [ServerPlugin("sample")]
            public sealed class SamplePlugin : IServerPlugin { {{method}} {{Init}} }
            """,
            new DiagnosticResult(ComposeDiagnostics.NearMissExitAsync).WithLocation(0).WithArguments("SamplePlugin", "'" + shown + "'").WithSeverity(DiagnosticSeverity.Warning));

    [Theory]
    [InlineData("public static void ConfigureServices(IServiceCollection services, IConfiguration configuration) { } public static void ConfigureService(IServiceCollection services) { }")]
    [InlineData("public Task ExitAsync(CancellationToken cancellationToken) => Task.CompletedTask; public Task ExitAsnyc() => Task.CompletedTask;")]
    [InlineData("public static void ConfigureLogging(ILoggingBuilder logging) { } public void Configure() { } public string Exists() => \"\";")]
    [InlineData("private void ConfigureServers(string name) { }")]
    public Task CMP0012_RealLifecycleMethodsAndUnrelatedNamesAreAccepted(string methods)
        => AnalyzeAsync<PluginDeclarationAnalyzer>($$"""
            [ServerPlugin("sample")]
            public sealed class SamplePlugin : IServerPlugin { {{methods}} {{Init}} }
            """);

    [Theory]
    [InlineData("none", null)]
    [InlineData("warning", DiagnosticSeverity.Warning)]
    public Task EditorConfigSeveritySetsAPerPluginRule(string severity, DiagnosticSeverity? reported)
    {
        var test = new Verifier.AnalyzerTest<PluginDeclarationAnalyzer>
        {
            TestCode = Source($$"""
                [ServerPlugin({|#0:"NotValid"|})]
                public sealed class SamplePlugin : IServerPlugin { {{Init}} }
                """),
        };
        test.TestState.AnalyzerConfigFiles.Add(("/.editorconfig", $"""
            root = true

            [*.cs]
            dotnet_diagnostic.CMP0001.severity = {severity}
            """));
        if (reported is { } level)
        {
            test.ExpectedDiagnostics.Add(At(ComposeDiagnostics.InvalidPluginId, 0, "SamplePlugin", "NotValid", "not-valid").WithSeverity(level));
        }

        return test.RunAsync();
    }

    [Theory]
    [InlineData("CMP0001", "[ServerPlugin(\"Bad.Id\")] public sealed class SamplePlugin : IServerPlugin { INIT }")]
    [InlineData("CMP0002", "[ServerPlugin(\"same\")] public sealed class APlugin : IServerPlugin { INIT } [ServerPlugin(\"same\")] public sealed class BPlugin : IServerPlugin { INIT }")]
    [InlineData("CMP0003", "[ServerPlugin(\"sample\")] internal sealed class SamplePlugin : IServerPlugin { INIT }")]
    [InlineData("CMP0004", "[ServerPlugin(\"sample\")] public sealed class SamplePlugin { INIT }")]
    [InlineData("CMP0005", "[ServerPlugin(\"sample\")] public sealed class SamplePlugin : IServerPlugin { private SamplePlugin() { } INIT }")]
    [InlineData("CMP0006", "[ServerPlugin(\"sample\")] public sealed class SamplePlugin : IServerPlugin { public void ConfigureServices(IServiceCollection services, IConfiguration configuration) { } INIT }")]
    [InlineData("CMP0012", "[ServerPlugin(\"sample\")] public sealed class SamplePlugin : IServerPlugin { public static void ConfigureService(IServiceCollection services) { } INIT }")]
    public async Task PragmaAndEditorConfigSuppressEveryPerPluginRule(string id, string source)
    {
        var code = source.Replace("INIT", Init, StringComparison.Ordinal);
        await AnalyzeAsync<PluginDeclarationAnalyzer>($"#pragma warning disable {id}\n{code}\n#pragma warning restore {id}");

        var test = new Verifier.AnalyzerTest<PluginDeclarationAnalyzer> { TestCode = Source(code) };
        test.TestState.AnalyzerConfigFiles.Add(("/.editorconfig", $"root = true\n\n[*.cs]\ndotnet_diagnostic.{id}.severity = none\n"));
        await test.RunAsync();
    }

    [Fact]
    public Task PragmaSuppressesAPerPluginRule()
        => AnalyzeAsync<PluginDeclarationAnalyzer>($$"""
            #pragma warning disable CMP0001
            [ServerPlugin("NotValid")]
            #pragma warning restore CMP0001
            public sealed class SamplePlugin : IServerPlugin { {{Init}} }
            """);
}
