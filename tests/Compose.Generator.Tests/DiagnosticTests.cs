using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using static Compose.Generator.Tests.GeneratorHarness;

namespace Compose.Generator.Tests;

/// <summary>
/// The composition rules the generator reports in a host build (the per-plugin rules are analyzers: see
/// <see cref="PluginRuleTests"/>), each with a case that must be flagged and a similar correct case that must not.
/// </summary>
public sealed class DiagnosticTests
{
    private const string Init = "public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken) => Task.CompletedTask;";

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
        Assert.Equal(
            "The server plugin id 'notes' of this project's My.Host.MyNotesPlugin is also used by Vendor.Notes.NotesPlugin from the referenced package Vendor.Notes; "
            + "a host composes only one plugin per id, so give My.Host.MyNotesPlugin another id, remove the reference to Vendor.Notes, "
            + "or switch Vendor.Notes.NotesPlugin off with <ComposeExcludedPlugins>Vendor.Notes.NotesPlugin</ComposeExcludedPlugins> in this project file",
            diagnostic.GetMessage());
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
        Assert.Equal(
            "The server plugin id 'notes' is used by APlugin from the referenced package Vendor.A and by BPlugin from the referenced package Vendor.B; "
            + "a host composes only one plugin per id, so remove the reference to one of the packages, "
            + "or switch one plugin off with <ComposeExcludedPlugins>BPlugin</ComposeExcludedPlugins> in this project file",
            diagnostic.GetMessage());
        Assert.EndsWith("docs/diagnostics/CMP0002.md", diagnostic.Descriptor.HelpLinkUri, StringComparison.Ordinal);
        Assert.DoesNotContain("\"notes\"", GeneratedSource(result, "Compose.Host.g.cs"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("BPlugin", "typeof(global::APlugin)", "typeof(global::BPlugin)")]
    [InlineData(" APlugin ;, ", "typeof(global::BPlugin)", "typeof(global::APlugin)")]
    public void CMP0002_SwitchingOnePluginOffAtBuildTimeComposesTheOther(string excluded, string composed, string left)
    {
        var first = BuildLibrary("Vendor.A", $$"""[ServerPlugin("notes")] public sealed class APlugin : IServerPlugin { {{Init}} }""");
        var second = BuildLibrary("Vendor.B", $$"""[ServerPlugin("notes")] public sealed class BPlugin : IServerPlugin { {{Init}} }""");
        var (result, output) = Run(
            Compile("My.Host", OutputKind.ConsoleApplication, [first, second], "public static class Nothing { }"),
            buildProperties: new Dictionary<string, string> { ["ComposeExcludedPlugins"] = excluded });

        Assert.Empty(result.Diagnostics);
        Assert.Empty(CompilerProblems(output));
        var host = GeneratedSource(result, "Compose.Host.g.cs");
        Assert.Contains(composed, host, StringComparison.Ordinal);
        Assert.DoesNotContain(left, host, StringComparison.Ordinal);
    }

    [Fact]
    public void CMP0002_DuplicatesInOneProjectAreLeftToTheAnalyzerAndRecordedInTheManifest()
    {
        var (result, _) = Run(Compile("Vendor.Twice", OutputKind.DynamicallyLinkedLibrary, null, $$"""
            [ServerPlugin("notes")] public sealed class FirstPlugin : IServerPlugin { {{Init}} }
            [ServerPlugin("notes")] public sealed class SecondPlugin : IServerPlugin { {{Init}} }
            """));

        Assert.Empty(result.Diagnostics);
        var manifest = GeneratedSource(result, "Compose.Manifest.g.cs");
        Assert.Equal(2, manifest.Split("Errors = \"CMP0002\"").Length - 1);
    }

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
    [InlineData("0.9.0", true)] // in 0.x a minor version may break: 0.9 is newer than this host's 0.1
    [InlineData("0.1.7", false)]
    [InlineData("0.1.0-preview.3", false)]
    [InlineData("0.0.4", false)]
    [InlineData("not-a-version", false)]
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
            Assert.Contains(composeVersion, diagnostic.GetMessage(), StringComparison.Ordinal);
            Assert.Contains(typeof(ServerPluginAttribute).Assembly.GetName().Version!.ToString(3), diagnostic.GetMessage(), StringComparison.Ordinal);
        }
        else
        {
            Assert.Empty(result.Diagnostics);
        }
    }

    [Fact]
    public async Task CMP0010_ErrorSuppressedWithAPragmaInThePluginBuildStillRefusesThePlugin()
    {
        var source = $$"""
            namespace Vendor.Quiet;
            [ServerPlugin("quiet")]
            public sealed class QuietPlugin : IServerPlugin
            {
            #pragma warning disable CMP0006
                public void ConfigureServices(IServiceCollection services, IConfiguration configuration) { }
            #pragma warning restore CMP0006
                {{Init}}
            }
            """;
        var plugin = Compile("Vendor.Quiet", OutputKind.DynamicallyLinkedLibrary, null, source);
        var (pluginRun, pluginOutput) = Run(plugin);
        var analyzed = await pluginOutput.WithAnalyzers([new Analyzers.PluginDeclarationAnalyzer()]).GetAnalyzerDiagnosticsAsync();
        Assert.Empty(analyzed);
        Assert.Contains("Errors = \"CMP0006\"", GeneratedSource(pluginRun, "Compose.Manifest.g.cs"), StringComparison.Ordinal);

        var (result, _) = Run(Compile("My.Host", OutputKind.ConsoleApplication, [BuildLibrary("Vendor.Quiet", source)], "public static class Nothing { }"));
        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal("CMP0010", diagnostic.Id);
        Assert.Contains("CMP0006", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("HasConfigureServices = true", "", "HasConfigureServices = true", "does not declare a public static ConfigureServices(IServiceCollection, IConfiguration)")]
    [InlineData("HasConfigureServices = false", "public static void ConfigureServices(IServiceCollection services, IConfiguration configuration) { }", "HasConfigureServices = false", "declares a public static ConfigureServices(IServiceCollection, IConfiguration)")]
    [InlineData("HasExitAsync = true", "", "HasExitAsync = true", "does not declare its own ExitAsync(CancellationToken)")]
    [InlineData("HasExitAsync = false", "public Task ExitAsync(CancellationToken cancellationToken) => Task.CompletedTask;", "HasExitAsync = false", "declares its own ExitAsync(CancellationToken)")]
    public void CMP0020_ManifestThatContradictsItsClassIsADiagnosticNotABrokenHost(string claim, string member, string shownClaim, string actual)
    {
        var library = BuildLibrary("Vendor.Liar", $$"""
            [assembly: Compose.ServerPluginManifest("liar", typeof(Vendor.Liar.LiarPlugin), {{claim}}, ComposeVersion = "0.1.0")]
            namespace Vendor.Liar;
            public sealed class LiarPlugin : IServerPlugin { {{member}} {{Init}} }
            """);
        var (result, output) = Run(Compile("My.Host", OutputKind.ConsoleApplication, [library], "public static class Nothing { }"));

        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal("CMP0020", diagnostic.Id);
        Assert.Contains($"says {shownClaim}, but its class Vendor.Liar.LiarPlugin {actual}", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Empty(CompilerProblems(output));
        Assert.DoesNotContain("LiarPlugin", GeneratedSource(result, "Compose.Host.g.cs"), StringComparison.Ordinal);
    }

    [Fact]
    public void CMP0020_ManifestThatMatchesItsClassIsComposed()
    {
        var library = BuildLibrary("Vendor.Honest", $$"""
            [assembly: Compose.ServerPluginManifest("honest", typeof(Vendor.Honest.HonestPlugin), HasConfigureServices = true, HasExitAsync = true, ComposeVersion = "0.1.0")]
            namespace Vendor.Honest;
            public sealed class HonestPlugin : IServerPlugin
            {
                public static void ConfigureServices(IServiceCollection services, IConfiguration configuration) { }
                public Task ExitAsync(CancellationToken cancellationToken) => Task.CompletedTask;
                {{Init}}
            }
            """);
        var (result, output) = Run(Compile("My.Host", OutputKind.ConsoleApplication, [library], "public static class Nothing { }"));

        Assert.Empty(result.Diagnostics);
        Assert.Empty(CompilerProblems(output));
        Assert.Contains("global::Vendor.Honest.HonestPlugin.ConfigureServices(services, configuration);", GeneratedSource(result, "Compose.Host.g.cs"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a,Not Valid", "CMP0015")]
    [InlineData("a,,b ,", null)] // empty entries and spaces around ids are the list's separators, not ids
    [InlineData("a,tampered", "CMP0016")]
    public void CMP0015_CMP0016_AHandWrittenManifestWithABadDependencyRefusesThePlugin(string dependsOn, string? error)
    {
        var library = BuildLibrary("Vendor.Tampered", $$"""
            [assembly: Compose.ServerPluginManifest("a", typeof(Vendor.Tampered.APlugin), ComposeVersion = "0.1.0")]
            [assembly: Compose.ServerPluginManifest("b", typeof(Vendor.Tampered.BPlugin), ComposeVersion = "0.1.0")]
            [assembly: Compose.ServerPluginManifest("tampered", typeof(Vendor.Tampered.TamperedPlugin), DependsOn = "{{dependsOn}}", ComposeVersion = "0.1.0")]
            namespace Vendor.Tampered;
            public sealed class APlugin : IServerPlugin { {{Init}} }
            public sealed class BPlugin : IServerPlugin { {{Init}} }
            public sealed class TamperedPlugin : IServerPlugin { {{Init}} }
            """);
        var (result, output) = Run(Compile("My.Host", OutputKind.ConsoleApplication, [library], "public static class Nothing { }"));

        Assert.Empty(CompilerProblems(output));
        var host = GeneratedSource(result, "Compose.Host.g.cs");
        if (error is null)
        {
            Assert.Empty(result.Diagnostics);
            Assert.Contains("TamperedPlugin", host, StringComparison.Ordinal);
            return;
        }

        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal("CMP0010", diagnostic.Id);
        Assert.Contains(error, diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        Assert.DoesNotContain("TamperedPlugin", host, StringComparison.Ordinal);
    }

    [Fact]
    public void InvalidPluginsStillGetAManifestSoHostsCanRefuseThem()
    {
        var (result, _) = Run(Compile("Vendor.Bad", OutputKind.DynamicallyLinkedLibrary, null, $$"""
            [ServerPlugin("Bad")] public sealed class BadPlugin : IServerPlugin { {{Init}} }
            [ServerPlugin("hidden")] internal sealed class HiddenPlugin : IServerPlugin { {{Init}} }
            """));

        Assert.Empty(result.Diagnostics); // Reported by the analyzers, on the declarations.
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
}
