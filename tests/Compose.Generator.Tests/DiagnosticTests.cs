using Microsoft.CodeAnalysis;
using static Compose.Generator.Tests.GeneratorHarness;

namespace Compose.Generator.Tests;

/// <summary>Every generator diagnostic, each with a case that must be flagged and a similar correct case that must not.</summary>
public sealed class DiagnosticTests
{
    private const string Init = "public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken) => Task.CompletedTask;";

    [Theory]
    [InlineData("MyPlugin", "my-plugin")]
    [InlineData("my.plugin", "my-plugin")]
    [InlineData("my plugin", "my-plugin")]
    [InlineData("LLMProxy", "llm-proxy")]
    [InlineData("", "sample")]
    [InlineData("été", "t")]
    public void CMP0001_InvalidIdIsAnErrorThatSuggestsAValidId(string id, string suggestion)
    {
        var diagnostic = Assert.Single(Diagnose($$"""
            [ServerPlugin("{{id}}")]
            public sealed class SamplePlugin : IServerPlugin { {{Init}} }
            """));

        Assert.Equal("CMP0001", diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Contains("SamplePlugin", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Contains($"for example '{suggestion}'", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.EndsWith("docs/diagnostics/CMP0001.md", diagnostic.Descriptor.HelpLinkUri, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("my-plugin")]
    [InlineData("llm_proxy")]
    [InlineData("image-cache-v2")]
    [InlineData("0")]
    public void CMP0001_ValidIdsAreAccepted(string id)
        => Assert.Empty(Diagnose($$"""
            [ServerPlugin("{{id}}")]
            public sealed class SamplePlugin : IServerPlugin { {{Init}} }
            """));

    [Fact]
    public void CMP0002_DuplicateIdInOneCompilationNamesBothPlugins()
    {
        var diagnostic = Assert.Single(Diagnose($$"""
            [ServerPlugin("notes")] public sealed class FirstPlugin : IServerPlugin { {{Init}} }
            [ServerPlugin("notes")] public sealed class SecondPlugin : IServerPlugin { {{Init}} }
            """));

        Assert.Equal("CMP0002", diagnostic.Id);
        Assert.Contains("FirstPlugin", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Contains("SecondPlugin", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void CMP0002_DistinctIdsAreAccepted()
        => Assert.Empty(Diagnose($$"""
            [ServerPlugin("notes")] public sealed class FirstPlugin : IServerPlugin { {{Init}} }
            [ServerPlugin("notes-2")] public sealed class SecondPlugin : IServerPlugin { {{Init}} }
            """));

    [Fact]
    public void CMP0002_DuplicateIdAcrossAssembliesIsReportedInTheHostWithBothAssemblies()
    {
        var library = BuildLibrary("Vendor.Notes", $$"""
            namespace Vendor.Notes;
            [ServerPlugin("notes")] public sealed class NotesPlugin : IServerPlugin { {{Init}} }
            """);
        var (result, _) = Run(Compile("My.Host", OutputKind.ConsoleApplication, [library], $$"""
            namespace My.Host;
            [ServerPlugin("notes")] public sealed class MyNotesPlugin : IServerPlugin { {{Init}} }
            """));

        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal("CMP0002", diagnostic.Id);
        var message = diagnostic.GetMessage();
        Assert.Contains("Vendor.Notes.NotesPlugin (assembly Vendor.Notes)", message, StringComparison.Ordinal);
        Assert.Contains("My.Host.MyNotesPlugin (assembly My.Host)", message, StringComparison.Ordinal);
        Assert.DoesNotContain("\"notes\"", GeneratedSource(result, "Compose.Host.g.cs"), StringComparison.Ordinal);
    }

    [Fact]
    public void CMP0002_DuplicateIdBetweenTwoReferencedAssemblies()
    {
        var first = BuildLibrary("Vendor.A", $$"""[ServerPlugin("notes")] public sealed class APlugin : IServerPlugin { {{Init}} }""");
        var second = BuildLibrary("Vendor.B", $$"""[ServerPlugin("notes")] public sealed class BPlugin : IServerPlugin { {{Init}} }""");
        var (result, _) = Run(Compile("My.Host", OutputKind.ConsoleApplication, [first, second], "public static class Nothing { }"));

        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal("CMP0002", diagnostic.Id);
        Assert.Contains("(assembly Vendor.A)", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Contains("(assembly Vendor.B)", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("internal sealed class SamplePlugin : IServerPlugin { INIT }", "not public")]
    [InlineData("public abstract class SamplePlugin : IServerPlugin { INIT }", "abstract")]
    [InlineData("public sealed class SamplePlugin<T> : IServerPlugin { INIT }", "generic")]
    [InlineData("internal static class Outer { [ServerPlugin(\"sample\")] public sealed class SamplePlugin : IServerPlugin { INIT } }", "nested in the non-public type Outer")]
    public void CMP0003_PluginClassThatCannotBeComposed(string declaration, string reason)
    {
        var source = declaration.StartsWith("internal static class Outer", StringComparison.Ordinal)
            ? declaration.Replace("INIT", Init, StringComparison.Ordinal)
            : "[ServerPlugin(\"sample\")] " + declaration.Replace("INIT", Init, StringComparison.Ordinal);
        var diagnostic = Assert.Single(Diagnose(source));

        Assert.Equal("CMP0003", diagnostic.Id);
        Assert.Contains(reason, diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void CMP0003_StaticClass()
    {
        var diagnostics = Diagnose("[ServerPlugin(\"sample\")] public static class SamplePlugin { }");
        Assert.Contains(diagnostics, d => d.Id == "CMP0003" && d.GetMessage().Contains("static", StringComparison.Ordinal));
    }

    [Fact]
    public void CMP0003_PublicClassNestedInPublicTypeIsAccepted()
        => Assert.Empty(Diagnose($$"""
            public static class Outer { [ServerPlugin("sample")] public sealed class SamplePlugin : IServerPlugin { {{Init}} } }
            """));

    [Fact]
    public void CMP0004_MissingInterface()
    {
        var diagnostic = Assert.Single(Diagnose($$"""
            [ServerPlugin("sample")]
            public sealed class SamplePlugin { {{Init}} }
            """));

        Assert.Equal("CMP0004", diagnostic.Id);
        Assert.Contains("SamplePlugin does not implement Compose.IServerPlugin", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void CMP0004_InterfaceThroughABaseClassIsAccepted()
        => Assert.Empty(Diagnose($$"""
            public abstract class PluginBase : IServerPlugin { public abstract Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken); }
            [ServerPlugin("sample")]
            public sealed class SamplePlugin : PluginBase { public override Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken) => Task.CompletedTask; }
            """));

    [Theory]
    [InlineData("public SamplePlugin() { } public SamplePlugin(ILogger<SamplePlugin> logger) { }", "has 2 public constructors")]
    [InlineData("private SamplePlugin() { }", "has no public constructor")]
    [InlineData("public SamplePlugin(ref int value) { }", "dependency injection cannot supply")]
    public void CMP0005_ConstructorTheGeneratedCodeCannotCall(string constructors, string reason)
    {
        var diagnostic = Assert.Single(Diagnose($$"""
            [ServerPlugin("sample")]
            public sealed class SamplePlugin : IServerPlugin { {{constructors}} {{Init}} }
            """));

        Assert.Equal("CMP0005", diagnostic.Id);
        Assert.Contains(reason, diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void CMP0005_OnePublicConstructorBesidePrivateOnesIsAccepted()
        => Assert.Empty(Diagnose($$"""
            [ServerPlugin("sample")]
            public sealed class SamplePlugin : IServerPlugin
            {
                public SamplePlugin(ILogger<SamplePlugin> logger) : this() => _ = logger;
                private SamplePlugin() { }
                {{Init}}
            }
            """));

    [Theory]
    [InlineData("public void ConfigureServices(IServiceCollection services, IConfiguration configuration) { }")]
    [InlineData("public static void ConfigureServices(IServiceCollection services) { }")]
    [InlineData("internal static void ConfigureServices(IServiceCollection services, IConfiguration configuration) { }")]
    [InlineData("public static int ConfigureServices(IServiceCollection services, IConfiguration configuration) => 0;")]
    public void CMP0006_ConfigureServicesWithTheWrongSignature(string method)
    {
        var diagnostic = Assert.Single(Diagnose($$"""
            [ServerPlugin("sample")]
            public sealed class SamplePlugin : IServerPlugin { {{method}} {{Init}} }
            """));

        Assert.Equal("CMP0006", diagnostic.Id);
        Assert.Contains("public static void ConfigureServices(IServiceCollection services, IConfiguration configuration)", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void CMP0006_RightSignatureIsAccepted()
        => Assert.Empty(Diagnose($$"""
            [ServerPlugin("sample")]
            public sealed class SamplePlugin : IServerPlugin { public static void ConfigureServices(IServiceCollection services, IConfiguration configuration) { } {{Init}} }
            """));

    [Fact]
    public void CMP0007_AttributeOnAStruct()
    {
        var (result, output) = Run(Compile("Plugins", OutputKind.DynamicallyLinkedLibrary, null, """
            [ServerPlugin("sample")]
            public struct SamplePlugin { }
            """));

        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal("CMP0007", diagnostic.Id);
        Assert.Contains("which is a struct", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Contains(output.GetDiagnostics(), d => d.Id == "CS0592");
    }

    [Fact]
    public void CMP0007_AttributeOnARecordClassIsAccepted()
        => Assert.Empty(Diagnose($$"""
            [ServerPlugin("sample")]
            public sealed record SamplePlugin : IServerPlugin { {{Init}} }
            """));

    [Fact]
    public void CMP0010_ReferencedPluginWhoseErrorsWereSuppressed()
    {
        var library = BuildLibrary("Vendor.Bad", $$"""
            namespace Vendor.Bad;
            [ServerPlugin("Bad.Plugin")] public sealed class BadPlugin : IServerPlugin { {{Init}} }
            """);
        var (result, _) = Run(Compile("My.Host", OutputKind.ConsoleApplication, [library], "public static class Nothing { }"));

        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal("CMP0010", diagnostic.Id);
        Assert.Contains("Vendor.Bad", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Contains("CMP0001", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.DoesNotContain("Bad.Plugin", GeneratedSource(result, "Compose.Host.g.cs"), StringComparison.Ordinal);
    }

    [Fact]
    public void CMP0010_ValidReferencedPluginIsAccepted()
    {
        var library = BuildLibrary("Vendor.Good", $$"""
            namespace Vendor.Good;
            [ServerPlugin("good")] public sealed class GoodPlugin : IServerPlugin { {{Init}} }
            """);
        var (result, output) = Run(Compile("My.Host", OutputKind.ConsoleApplication, [library], "public static class Nothing { }"));

        Assert.Empty(result.Diagnostics);
        Assert.Empty(CompilerProblems(output));
        Assert.Contains("typeof(global::Vendor.Good.GoodPlugin)", GeneratedSource(result, "Compose.Host.g.cs"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("99.0.0", true)]
    [InlineData("0.9.0", false)]
    public void CMP0011_PluginBuiltWithANewerMajorVersionOfCompose(string composeVersion, bool flagged)
    {
        var library = BuildLibrary("Vendor.Future", $$"""
            [assembly: Compose.ServerPluginManifest("future", typeof(Vendor.Future.FuturePlugin), ComposeVersion = "{{composeVersion}}")]
            namespace Vendor.Future;
            public sealed class FuturePlugin : IServerPlugin { {{Init}} }
            """);
        var (result, _) = Run(Compile("My.Host", OutputKind.ConsoleApplication, [library], "public static class Nothing { }"));

        if (flagged)
        {
            var diagnostic = Assert.Single(result.Diagnostics);
            Assert.Equal("CMP0011", diagnostic.Id);
            Assert.Contains("99.0.0", diagnostic.GetMessage(), StringComparison.Ordinal);
            Assert.Contains(typeof(ServerPluginAttribute).Assembly.GetName().Version!.ToString(3), diagnostic.GetMessage(), StringComparison.Ordinal);
        }
        else
        {
            Assert.Empty(result.Diagnostics);
        }
    }

    [Fact]
    public void InvalidPluginsStillGetAManifestSoHostsCanRefuseThem()
    {
        var (result, _) = Run(Compile("Vendor.Bad", OutputKind.DynamicallyLinkedLibrary, null, $$"""
            [ServerPlugin("Bad")] public sealed class BadPlugin : IServerPlugin { {{Init}} }
            [ServerPlugin("hidden")] internal sealed class HiddenPlugin : IServerPlugin { {{Init}} }
            """));

        var manifest = GeneratedSource(result, "Compose.Manifest.g.cs");
        Assert.Contains("ServerPluginManifest(\"Bad\", typeof(global::BadPlugin)", manifest, StringComparison.Ordinal);
        Assert.Contains("Errors = \"CMP0001\"", manifest, StringComparison.Ordinal);
        Assert.Contains("ServerPluginManifest(\"hidden\", null", manifest, StringComparison.Ordinal);
        Assert.Contains("Errors = \"CMP0003\"", manifest, StringComparison.Ordinal);
    }

    [Fact]
    public void ComposeHostPropertyControlsHostEmission()
    {
        var library = Compile("Lib", OutputKind.DynamicallyLinkedLibrary, null, $$"""[ServerPlugin("a")] public sealed class APlugin : IServerPlugin { {{Init}} }""");
        Assert.True(HasSource(Run(library, composeHost: "true").Result, "Compose.Host.g.cs"));
        Assert.False(HasSource(Run(library).Result, "Compose.Host.g.cs"));

        var exe = Compile("App", OutputKind.ConsoleApplication, null, $$"""[ServerPlugin("a")] public sealed class APlugin : IServerPlugin { {{Init}} }""");
        Assert.False(HasSource(Run(exe, composeHost: "false").Result, "Compose.Host.g.cs"));
        Assert.True(HasSource(Run(exe).Result, "Compose.Host.g.cs"));
    }

    private static IReadOnlyList<Diagnostic> Diagnose(string source)
    {
        var (result, output) = Run(Compile("Plugins", OutputKind.ConsoleApplication, null, source));
        Assert.Empty(CompilerProblems(output));
        return result.Diagnostics;
    }
}
