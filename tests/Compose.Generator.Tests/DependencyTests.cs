using Compose.Generator.Analyzers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;
using static Compose.Generator.Tests.GeneratorHarness;
using static Compose.Generator.Tests.Verifier;

namespace Compose.Generator.Tests;

/// <summary>
/// Issue 11 at build time: DependsOn entries checked in the plugin build (CMP0015 to CMP0017, on the entry), missing
/// dependencies and cycles in the host build (CMP0018, CMP0019), and the generated table in dependency order.
/// </summary>
public sealed class DependencyTests
{
    private const string Init = "public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken) => Task.CompletedTask;";

    private static DiagnosticResult At(DiagnosticDescriptor descriptor, int location, params object[] arguments)
        => new DiagnosticResult(descriptor).WithLocation(location).WithArguments(arguments);

    [Fact]
    public Task CMP0015_InvalidIdInDependsOn_OnTheEntry()
        => AnalyzeAsync<PluginDeclarationAnalyzer>(
            $$"""
            [ServerPlugin("stats", DependsOn = ["bookmarks", {|#0:"Bookmarks.Store"|}])]
            public sealed class StatsPlugin : IServerPlugin { {{Init}} }
            """,
            At(ComposeDiagnostics.InvalidDependencyId, 0, "StatsPlugin", "Bookmarks.Store"));

    [Fact]
    public Task CMP0015_InArrayCreationSyntaxToo()
        => AnalyzeAsync<PluginDeclarationAnalyzer>(
            $$"""
            [ServerPlugin("stats", DependsOn = new[] { {|#0:""|} })]
            public sealed class StatsPlugin : IServerPlugin { {{Init}} }
            """,
            At(ComposeDiagnostics.InvalidDependencyId, 0, "StatsPlugin", ""));

    [Fact]
    public Task CMP0016_SelfDependency_OnTheEntry()
        => AnalyzeAsync<PluginDeclarationAnalyzer>(
            $$"""
            [ServerPlugin("stats", DependsOn = [{|#0:"stats"|}])]
            public sealed class StatsPlugin : IServerPlugin { {{Init}} }
            """,
            At(ComposeDiagnostics.SelfDependency, 0, "StatsPlugin", "stats"));

    [Fact]
    public Task CMP0017_DuplicateEntryIsAWarning_OnTheRepeat()
        => AnalyzeAsync<PluginDeclarationAnalyzer>(
            $$"""
            [ServerPlugin("stats", DependsOn = ["bookmarks", "tags", {|#0:"bookmarks"|}])]
            public sealed class StatsPlugin : IServerPlugin { {{Init}} }
            """,
            At(ComposeDiagnostics.DuplicateDependency, 0, "StatsPlugin", "bookmarks"));

    [Fact]
    public Task CMP0022_EnvironmentNamesThatTheManifestWouldChange_OnTheEntry()
        => AnalyzeAsync<PluginDeclarationAnalyzer>(
            $$"""
            [ServerPlugin("stats", Environments = ["Production", {|#0:"Prod,EU"|}, {|#1:" Staging"|}, {|#2:""|}, "Dev-EU_2"])]
            public sealed class StatsPlugin : IServerPlugin { {{Init}} }
            """,
            At(ComposeDiagnostics.InvalidEnvironmentName, 0, "StatsPlugin", "Prod,EU", "contains a comma"),
            At(ComposeDiagnostics.InvalidEnvironmentName, 1, "StatsPlugin", " Staging", "starts or ends with white space"),
            At(ComposeDiagnostics.InvalidEnvironmentName, 2, "StatsPlugin", "", "is empty"));

    [Fact]
    public void CMP0022_IsRecordedInTheManifest_SoHostsRefuseThePackage()
    {
        var (result, _) = Run(Compile("Vendor.Stats", OutputKind.DynamicallyLinkedLibrary, null, $$"""
            [ServerPlugin("stats", Environments = ["Prod,EU"])] public sealed class StatsPlugin : IServerPlugin { {{Init}} }
            """));

        Assert.Contains("Errors = \"CMP0022\"", GeneratedSource(result, "Compose.Manifest.g.cs"), StringComparison.Ordinal);
    }

    [Fact]
    public Task ValidDependsOnIsAccepted()
        => AnalyzeAsync<PluginDeclarationAnalyzer>($$"""
            [ServerPlugin("stats", DependsOn = ["bookmarks", "tag_store", "v2-cache"])]
            public sealed class StatsPlugin : IServerPlugin { {{Init}} }
            """);

    [Fact]
    public void InvalidDependsOnIsRecordedInTheManifest_SoHostsRefuseThePackage()
    {
        var (result, _) = Run(Compile("Vendor.Stats", OutputKind.DynamicallyLinkedLibrary, null, $$"""
            [ServerPlugin("stats", DependsOn = ["stats", "Bad Id"])] public sealed class StatsPlugin : IServerPlugin { {{Init}} }
            """));

        var manifest = GeneratedSource(result, "Compose.Manifest.g.cs");
        Assert.Contains("Errors = \"CMP0015,CMP0016\"", manifest, StringComparison.Ordinal);
    }

    [Fact]
    public void CMP0018_MissingDependency_NamesBothPluginsAndThePackageToAdd()
    {
        var stats = BuildLibrary("Vendor.Stats", $$"""
            [ServerPlugin("bookmark-stats", DependsOn = ["bookmarks"])] public sealed class StatsPlugin : IServerPlugin { {{Init}} }
            """);
        var (result, _) = Run(Compile("My.Host", OutputKind.ConsoleApplication, [stats], "public static class Nothing { }"));

        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal("CMP0018", diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Equal(
            "Server plugin 'bookmark-stats' (StatsPlugin) depends on server plugin 'bookmarks', which this host does not compose; "
            + "add a reference to the package that contains server plugin 'bookmarks', or leave 'bookmark-stats' out with <ComposeExclude Include=\"bookmark-stats\" /> in this project file",
            diagnostic.GetMessage());
        Assert.DoesNotContain("\"bookmark-stats", GeneratedSource(result, "Compose.Host.g.cs"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "a:b", "b:a" }, "'a' -> 'b' -> 'a'")]
    [InlineData(new[] { "c:a", "a:b", "b:c" }, "'a' -> 'b' -> 'c' -> 'a'")]
    public void CMP0019_Cycle_IsReportedOnce_InOrderFromItsSmallestId(string[] edges, string cycle)
    {
        var sources = edges.Select(e => e.Split(':')).Select(e =>
            $$"""[ServerPlugin("{{e[0]}}", DependsOn = ["{{e[1]}}"])] public sealed class P{{e[0]}} : IServerPlugin { {{Init}} }""").ToArray();
        var library = BuildLibrary("Vendor.Cycle", sources);
        var (result, _) = Run(Compile("My.Host", OutputKind.ConsoleApplication, [library], """[ServerPlugin("free")] public sealed class Free : IServerPlugin { public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken) => Task.CompletedTask; }"""));

        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal("CMP0019", diagnostic.Id);
        Assert.Equal($"Server plugins depend on each other in a cycle: {cycle}; no order can initialise them, so remove one of these DependsOn entries", diagnostic.GetMessage());
        var host = GeneratedSource(result, "Compose.Host.g.cs");
        Assert.Contains("free", host, StringComparison.Ordinal);
        Assert.DoesNotContain("global::Pa", host, StringComparison.Ordinal);
    }

    [Fact]
    public void TheDescriptorsAreInDependencyOrder_TiesById_AndCarryTheDependencies()
    {
        var library = BuildLibrary("Vendor.Set", $$"""
            [ServerPlugin("a-stats", DependsOn = ["z-store", "m-tags"])] public sealed class Stats : IServerPlugin { {{Init}} }
            [ServerPlugin("m-tags", DependsOn = ["z-store"])] public sealed class Tags : IServerPlugin { {{Init}} }
            [ServerPlugin("z-store")] public sealed class Store : IServerPlugin { {{Init}} }
            [ServerPlugin("b-free")] public sealed class Free : IServerPlugin { {{Init}} }
            """);
        var (result, output) = Run(Compile("My.Host", OutputKind.ConsoleApplication, [library], "public static class Nothing { }"));

        Assert.Empty(result.Diagnostics);
        Assert.Empty(CompilerProblems(output));
        var host = GeneratedSource(result, "Compose.Host.g.cs");
        var order = new[] { "b-free", "z-store", "m-tags", "a-stats" }.Select(id => host.IndexOf($"=> new(\"{id}\", ", StringComparison.Ordinal)).ToList();
        Assert.All(order, index => Assert.True(index >= 0, host));
        Assert.Equal(order.OrderBy(i => i), order);
        Assert.Contains("\"0.0.0.0\", dependsOn: new string[] { \"z-store\", \"m-tags\" }),", host, StringComparison.Ordinal);
    }

    [Fact]
    public void ManifestCarriesDependsOn()
    {
        var (result, _) = Run(Compile("Vendor.Stats", OutputKind.DynamicallyLinkedLibrary, null, $$"""
            [ServerPlugin("stats", DependsOn = ["bookmarks", "tags"])] public sealed class StatsPlugin : IServerPlugin { {{Init}} }
            """));

        Assert.Contains("DependsOn = \"bookmarks,tags\",", GeneratedSource(result, "Compose.Manifest.g.cs"), StringComparison.Ordinal);
    }
}
