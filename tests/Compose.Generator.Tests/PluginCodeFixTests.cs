using Compose.CodeFixes;
using Compose.Generator.Analyzers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;
using static Compose.Generator.Tests.Verifier;

namespace Compose.Generator.Tests;

/// <summary>
/// The code fixes of the per-plugin rules, driven by the Roslyn SDK test framework: the diagnostic at its span
/// before, the fixed source after (no diagnostic left, no compiler error), and Fix All in document, project and
/// solution where a source has several.
/// </summary>
public sealed class PluginCodeFixTests
{
    private const string Init = "public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken) => Task.CompletedTask;";

    [Theory]
    [InlineData("MyPlugin", "my-plugin")]
    [InlineData("llm.proxy", "llm-proxy")]
    public Task CMP0001_InvalidIdIsReplacedByTheSuggestedId(string id, string fixedId)
        => FixAsync<PluginDeclarationAnalyzer, InvalidPluginIdCodeFix>(
            $$"""
            [ServerPlugin({|CMP0001:"{{id}}"|}, Name = "Mine")]
            public sealed class MyPlugin : IServerPlugin { {{Init}} }
            """,
            $$"""
            [ServerPlugin("{{fixedId}}", Name = "Mine")]
            public sealed class MyPlugin : IServerPlugin { {{Init}} }
            """);

    [Fact]
    public Task CMP0001_FixAllFixesEveryPluginOfTheProject()
        => FixAsync<PluginDeclarationAnalyzer, InvalidPluginIdCodeFix>(
            $$"""
            [ServerPlugin({|CMP0001:"FirstOne"|})] public sealed class FirstPlugin : IServerPlugin { {{Init}} }
            [ServerPlugin({|CMP0001:"Second.One"|})] public sealed class SecondPlugin : IServerPlugin { {{Init}} }
            """,
            $$"""
            [ServerPlugin("first-one")] public sealed class FirstPlugin : IServerPlugin { {{Init}} }
            [ServerPlugin("second-one")] public sealed class SecondPlugin : IServerPlugin { {{Init}} }
            """);

    [Fact]
    public Task CMP0001_AnIdFromAConstantIsNotRewritten()
    {
        var source = $$"""
            public static class Ids { public const string Notes = "Notes"; }
            [ServerPlugin({|CMP0001:Ids.Notes|})] public sealed class NotesPlugin : IServerPlugin { {{Init}} }
            """;
        return FixAsync<PluginDeclarationAnalyzer, InvalidPluginIdCodeFix>(source, source.Replace("{|CMP0001:Ids.Notes|}", "{|CMP0001:Ids.Notes|}", StringComparison.Ordinal));
    }

    [Fact]
    public Task CMP0004_InterfaceAndInitAsyncStubAreAdded()
        => FixAsync<PluginDeclarationAnalyzer, MissingInterfaceCodeFix>(
            """
            [ServerPlugin("notes")]
            public sealed class {|CMP0004:NotesPlugin|}
            {
                public string Title => "notes";
            }
            """,
            """
            [ServerPlugin("notes")]
            public sealed class NotesPlugin : IServerPlugin
            {
                public string Title => "notes";

                public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
                {
                    // Register routes here, before the first await.
                    return Task.CompletedTask;
                }
            }
            """);

    [Fact]
    public Task CMP0004_AnExistingInitAsyncAndBaseListAreKept()
        => FixAsync<PluginDeclarationAnalyzer, MissingInterfaceCodeFix>(
            """
            public abstract class Base { }

            [ServerPlugin("notes")]
            public sealed class {|CMP0004:NotesPlugin|} : Base
            {
                public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken) => Task.CompletedTask;
            }
            """,
            """
            public abstract class Base { }

            [ServerPlugin("notes")]
            public sealed class NotesPlugin : Base, IServerPlugin
            {
                public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken) => Task.CompletedTask;
            }
            """);

    [Fact]
    public Task CMP0004_FixAllFixesEveryPlugin()
        => FixAsync<PluginDeclarationAnalyzer, MissingInterfaceCodeFix>(
            $$"""
            [ServerPlugin("a")] public sealed class {|CMP0004:APlugin|} { {{Init}} }
            [ServerPlugin("b")] public sealed class {|CMP0004:BPlugin|} { {{Init}} }
            """,
            $$"""
            [ServerPlugin("a")] public sealed class APlugin : IServerPlugin { {{Init}} }
            [ServerPlugin("b")] public sealed class BPlugin : IServerPlugin { {{Init}} }
            """);

    [Theory]
    [InlineData("public void {|CMP0006:ConfigureServices|}(IServiceCollection services, IConfiguration configuration) => services.AddSingleton(TimeProvider.System);")]
    [InlineData("internal static void {|CMP0006:ConfigureServices|}(IServiceCollection services, IConfiguration configuration) => services.AddSingleton(TimeProvider.System);")]
    [InlineData("public static void {|CMP0006:ConfigureServices|}(IServiceCollection services) => services.AddSingleton(TimeProvider.System);")]
    [InlineData("public static void {|CMP0006:ConfigureServices|}(IConfiguration configuration, IServiceCollection services) => services.AddSingleton(TimeProvider.System);")]
    [InlineData("public static IServiceCollection {|CMP0006:ConfigureServices|}(IServiceCollection services, IConfiguration configuration) => services.AddSingleton(TimeProvider.System);")]
    [InlineData("private void {|CMP0006:ConfigureServices|}<T>(ref IServiceCollection services) => services.AddSingleton(TimeProvider.System);")]
    public Task CMP0006_SignatureIsRewrittenKeepingTheBody(string method)
        => FixAsync<PluginDeclarationAnalyzer, LifecycleMethodCodeFix>(
            $$"""
            [ServerPlugin("sample")]
            public sealed class SamplePlugin : IServerPlugin
            {
                {{method}}

                {{Init}}
            }
            """,
            $$"""
            [ServerPlugin("sample")]
            public sealed class SamplePlugin : IServerPlugin
            {
                public static void ConfigureServices(IServiceCollection services, IConfiguration configuration) => services.AddSingleton(TimeProvider.System);

                {{Init}}
            }
            """);

    [Fact]
    public Task CMP0006_AttributesAndCommentsAreKept()
        => FixAsync<PluginDeclarationAnalyzer, LifecycleMethodCodeFix>(
            $$"""
            [ServerPlugin("sample")]
            public sealed class SamplePlugin : IServerPlugin
            {
                // Registers the clock.
                [System.Diagnostics.CodeAnalysis.SuppressMessage("Style", "IDE0060")]
                static void {|CMP0006:ConfigureServices|}(IServiceCollection services, IConfiguration configuration) => services.AddSingleton(TimeProvider.System);

                {{Init}}
            }
            """,
            $$"""
            [ServerPlugin("sample")]
            public sealed class SamplePlugin : IServerPlugin
            {
                // Registers the clock.
                [System.Diagnostics.CodeAnalysis.SuppressMessage("Style", "IDE0060")]
                public static void ConfigureServices(IServiceCollection services, IConfiguration configuration) => services.AddSingleton(TimeProvider.System);

                {{Init}}
            }
            """);

    [Fact]
    public Task CMP0012_MethodWithoutModifiersGetsThemInPlace()
        => FixAsync<PluginDeclarationAnalyzer, LifecycleMethodCodeFix>(
            $$"""
            [ServerPlugin("sample")]
            public sealed class SamplePlugin : IServerPlugin
            {
                /// <summary>Registers the clock.</summary>
                void {|CMP0012:configureServices|}(IServiceCollection services) => services.AddSingleton(TimeProvider.System);

                {{Init}}
            }
            """,
            $$"""
            [ServerPlugin("sample")]
            public sealed class SamplePlugin : IServerPlugin
            {
                /// <summary>Registers the clock.</summary>
                public static void ConfigureServices(IServiceCollection services, IConfiguration configuration) => services.AddSingleton(TimeProvider.System);

                {{Init}}
            }
            """);

    [Fact]
    public Task CMP0006_AReturnedCollectionIsDropped()
        => FixAsync<PluginDeclarationAnalyzer, LifecycleMethodCodeFix>(
            $$"""
            [ServerPlugin("sample")]
            public sealed class SamplePlugin : IServerPlugin
            {
                public static IServiceCollection {|CMP0006:ConfigureServices|}(IServiceCollection services, IConfiguration settings)
                {
                    services.AddSingleton(TimeProvider.System);
                    return services;
                }

                {{Init}}
            }
            """,
            $$"""
            [ServerPlugin("sample")]
            public sealed class SamplePlugin : IServerPlugin
            {
                public static void ConfigureServices(IServiceCollection services, IConfiguration settings)
                {
                    services.AddSingleton(TimeProvider.System);
                }

                {{Init}}
            }
            """);

    [Fact]
    public Task CMP0006_NoFixWhenTheBodyUsesAParameterTheSignatureDrops()
    {
        var source = $$"""
            [ServerPlugin("sample")]
            public sealed class SamplePlugin : IServerPlugin
            {
                public static void {|CMP0006:ConfigureServices|}(IServiceCollection services, string name) => services.AddKeyedSingleton(name, TimeProvider.System);

                {{Init}}
            }
            """;
        return FixAsync<PluginDeclarationAnalyzer, LifecycleMethodCodeFix>(source, source);
    }

    [Fact]
    public Task CMP0012_MisspelledConfigureServicesIsRenamed()
        => FixAsync<PluginDeclarationAnalyzer, LifecycleMethodCodeFix>(
            $$"""
            [ServerPlugin("sample")]
            public sealed class SamplePlugin : IServerPlugin
            {
                public static void {|CMP0012:ConfigureService|}(IServiceCollection services, IConfiguration configuration)
                {
                    services.AddSingleton(TimeProvider.System);
                }

                {{Init}}
            }
            """,
            $$"""
            [ServerPlugin("sample")]
            public sealed class SamplePlugin : IServerPlugin
            {
                public static void ConfigureServices(IServiceCollection services, IConfiguration configuration)
                {
                    services.AddSingleton(TimeProvider.System);
                }

                {{Init}}
            }
            """);

    [Fact]
    public Task CMP0012_ExitAsyncWithoutATokenGetsOne()
        => FixAsync<PluginDeclarationAnalyzer, LifecycleMethodCodeFix>(
            $$"""
            [ServerPlugin("sample")]
            public sealed class SamplePlugin : IServerPlugin
            {
                public Task {|CMP0012:ExitAsync|}() => Task.CompletedTask;

                {{Init}}
            }
            """,
            $$"""
            [ServerPlugin("sample")]
            public sealed class SamplePlugin : IServerPlugin
            {
                public Task ExitAsync(CancellationToken cancellationToken) => Task.CompletedTask;

                {{Init}}
            }
            """);

    [Fact]
    public Task CMP0012_SynchronousExitReturnsACompletedTask()
        => FixAsync<PluginDeclarationAnalyzer, LifecycleMethodCodeFix>(
            $$"""
            [ServerPlugin("sample")]
            public sealed class SamplePlugin : IServerPlugin
            {
                private readonly CancellationTokenSource _stop = new();

                public void {|CMP0012:Exit|}()
                {
                    if (_stop.IsCancellationRequested)
                    {
                        return;
                    }

                    _stop.Cancel();
                }

                {{Init}}
            }
            """,
            $$"""
            [ServerPlugin("sample")]
            public sealed class SamplePlugin : IServerPlugin
            {
                private readonly CancellationTokenSource _stop = new();

                public Task ExitAsync(CancellationToken cancellationToken)
                {
                    if (_stop.IsCancellationRequested)
                    {
                        return Task.CompletedTask;
                    }

                    _stop.Cancel();
                    return Task.CompletedTask;
                }

                {{Init}}
            }
            """);

    [Fact]
    public Task CMP0012_AsyncExitWithAMisspelledNameIsRenamed()
        => FixAsync<PluginDeclarationAnalyzer, LifecycleMethodCodeFix>(
            $$"""
            [ServerPlugin("sample")]
            public sealed class SamplePlugin : IServerPlugin
            {
                private static async ValueTask {|CMP0012:ExitAsnyc|}(CancellationToken token) => await Task.Delay(1, token);

                {{Init}}
            }
            """,
            $$"""
            [ServerPlugin("sample")]
            public sealed class SamplePlugin : IServerPlugin
            {
                public async Task ExitAsync(CancellationToken token) => await Task.Delay(1, token);

                {{Init}}
            }
            """);

    [Fact]
    public Task CMP0012_FixAllFixesBothLifecycleMethods()
        => FixAsync<PluginDeclarationAnalyzer, LifecycleMethodCodeFix>(
            $$"""
            [ServerPlugin("sample")]
            public sealed class SamplePlugin : IServerPlugin
            {
                public static void {|CMP0012:configureServices|}(IServiceCollection services, IConfiguration configuration) => services.AddSingleton(TimeProvider.System);

                public Task {|CMP0012:ExitAsync|}() => Task.CompletedTask;

                {{Init}}
            }
            """,
            $$"""
            [ServerPlugin("sample")]
            public sealed class SamplePlugin : IServerPlugin
            {
                public static void ConfigureServices(IServiceCollection services, IConfiguration configuration) => services.AddSingleton(TimeProvider.System);

                public Task ExitAsync(CancellationToken cancellationToken) => Task.CompletedTask;

                {{Init}}
            }
            """);

    [Fact]
    public Task CMP0013_PatternIsWrittenRelativeToThePluginGroup()
        => FixAsync<RoutePrefixAnalyzer, RoutePrefixCodeFix>(
            """
            [ServerPlugin("notes")]
            public sealed class NotesPlugin : IServerPlugin
            {
                public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
                {
                    router.MapGet({|CMP0013:"/api/plugins/notes/list"|}, () => "list");
                    var admin = router.MapGroup({|CMP0013:"api/plugins/admin"|});
                    admin.MapPost({|CMP0013:"/api/plugins"|}, () => "root");
                    router.MapGet("/api/pluginsx", () => "unrelated");
                    return Task.CompletedTask;
                }
            }
            """,
            """
            [ServerPlugin("notes")]
            public sealed class NotesPlugin : IServerPlugin
            {
                public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
                {
                    router.MapGet("/list", () => "list");
                    var admin = router.MapGroup("/admin");
                    admin.MapPost("/", () => "root");
                    router.MapGet("/api/pluginsx", () => "unrelated");
                    return Task.CompletedTask;
                }
            }
            """);
}
