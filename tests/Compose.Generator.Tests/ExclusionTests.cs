using Microsoft.CodeAnalysis;
using static Compose.Generator.Tests.GeneratorHarness;

namespace Compose.Generator.Tests;

/// <summary>
/// Leaving plugins out at build time: <c>&lt;ComposeExclude Include="id" /&gt;</c> items (which the package's props join
/// with ',' into <c>_ComposeExcludeIds</c>: .editorconfig values end at ';') and the <c>ComposeExcludedPlugins</c> property of class names; CMP0021 when an entry
/// leaves nothing out, and CMP0018 naming the exclusion when a composed plugin depends on an excluded one.
/// </summary>
public sealed class ExclusionTests
{
    private const string Init = "public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken) => Task.CompletedTask;";
    private const string HostFile = "Compose.Host.g.cs";

    [Theory]
    [InlineData("notes")]
    [InlineData("notes,notes")]
    [InlineData(",notes, ")]
    public void ComposeExclude_LeavesAReferencedPluginOut_AndComposesTheRest(string ids)
    {
        var library = BuildLibrary("Vendor.Notes", $$"""
            namespace Vendor.Notes;
            [ServerPlugin("notes")] public sealed class NotesPlugin : IServerPlugin { {{Init}} }
            [ServerPlugin("tags")] public sealed class TagsPlugin : IServerPlugin { {{Init}} }
            """);
        var (result, output) = Run(Compile("My.Host", OutputKind.ConsoleApplication, [library], "public static class Nothing { }"), buildProperties: Ids(ids));

        Assert.Empty(result.Diagnostics);
        Assert.Empty(CompilerProblems(output));
        var host = GeneratedSource(result, HostFile);
        Assert.DoesNotContain("Vendor.Notes.NotesPlugin", host, StringComparison.Ordinal);
        Assert.DoesNotContain("\"notes\"", host, StringComparison.Ordinal);
        Assert.Contains("typeof(global::Vendor.Notes.TagsPlugin)", host, StringComparison.Ordinal);
    }

    [Fact]
    public void ComposeExclude_LeavesTheHostsOwnPluginOut()
    {
        var (result, output) = Run(
            Compile("My.Host", OutputKind.ConsoleApplication, null, $$"""
                namespace My.Host;
                [ServerPlugin("own")] public sealed class OwnPlugin : IServerPlugin { {{Init}} }
                [ServerPlugin("kept")] public sealed class KeptPlugin : IServerPlugin { {{Init}} }
                """),
            buildProperties: Ids("own"));

        Assert.Empty(result.Diagnostics);
        Assert.Empty(CompilerProblems(output));
        var host = GeneratedSource(result, HostFile);
        Assert.DoesNotContain("OwnPlugin", host, StringComparison.Ordinal);
        Assert.Contains("typeof(global::My.Host.KeptPlugin)", host, StringComparison.Ordinal);
    }

    [Fact]
    public void ComposeExclude_WithoutItems_ComposesEverything()
    {
        var library = BuildLibrary("Vendor.Notes", $$"""[ServerPlugin("notes")] public sealed class NotesPlugin : IServerPlugin { {{Init}} }""");
        var (result, _) = Run(Compile("My.Host", OutputKind.ConsoleApplication, [library], "public static class Nothing { }"), buildProperties: Ids(""));

        Assert.Empty(result.Diagnostics);
        Assert.Contains("typeof(global::NotesPlugin)", GeneratedSource(result, HostFile), StringComparison.Ordinal);
    }

    [Fact]
    public void ComposeExclude_LeavesABrokenReferencedPluginOutBeforeItIsChecked()
    {
        var library = BuildLibrary("Vendor.Bad", $$"""
            namespace Vendor.Bad;
            [ServerPlugin("bad", DependsOn = ["missing"])] public sealed class BadPlugin : IServerPlugin { {{Init}} }
            [ServerPlugin("Bad.Plugin")] public sealed class WorsePlugin : IServerPlugin { {{Init}} }
            """);
        var compilation = Compile("My.Host", OutputKind.ConsoleApplication, [library], "public static class Nothing { }");

        // Without the exclusion the host refuses both (CMP0010 for the invalid id, CMP0018 for the missing dependency).
        var (refused, _) = Run(compilation);
        Assert.Equal(["CMP0010", "CMP0018"], refused.Diagnostics.Select(d => d.Id).Order(StringComparer.Ordinal));

        var (result, output) = Run(compilation, buildProperties: Ids("bad"));
        Assert.Equal("CMP0010", Assert.Single(result.Diagnostics).Id);

        // The invalid id itself cannot be named by ComposeExclude (CMP0021); its class can.
        var both = new Dictionary<string, string> { ["_ComposeExcludeIds"] = "bad", ["ComposeExcludedPlugins"] = "Vendor.Bad.WorsePlugin" };
        (result, output) = Run(compilation, buildProperties: both);
        Assert.Empty(result.Diagnostics);
        Assert.Empty(CompilerProblems(output));
        Assert.DoesNotContain("Vendor.Bad", GeneratedSource(result, HostFile), StringComparison.Ordinal);
    }

    [Fact]
    public void CMP0021_AnIdThatMatchesNoPlugin_NamesThePluginsTheHostHas()
    {
        var library = BuildLibrary("Vendor.Notes", $$"""
            [ServerPlugin("notes")] public sealed class NotesPlugin : IServerPlugin { {{Init}} }
            [ServerPlugin("tags")] public sealed class TagsPlugin : IServerPlugin { {{Init}} }
            """);
        var (result, output) = Run(Compile("My.Host", OutputKind.ConsoleApplication, [library], "public static class Nothing { }"), buildProperties: Ids("note,tags"));

        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal("CMP0021", diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Warning, diagnostic.Severity);
        Assert.Equal(Location.None, diagnostic.Location);
        Assert.Equal(
            "<ComposeExclude Include=\"note\" /> matches no server plugin of this host, so it leaves nothing out (this host's plugins: 'notes', 'tags'); "
            + "correct the id, or remove the item from the project file",
            diagnostic.GetMessage());
        Assert.EndsWith("docs/diagnostics/CMP0021.md", diagnostic.Descriptor.HelpLinkUri, StringComparison.Ordinal);
        Assert.Empty(CompilerProblems(output));

        // The item that matched still worked; the one that did not changed nothing.
        var host = GeneratedSource(result, HostFile);
        Assert.Contains("typeof(global::NotesPlugin)", host, StringComparison.Ordinal);
        Assert.DoesNotContain("TagsPlugin", host, StringComparison.Ordinal);
    }

    [Fact]
    public void CMP0021_InAHostWithoutPlugins_SaysSo()
    {
        var (result, _) = Run(Compile("My.Host", OutputKind.ConsoleApplication, null, "public static class Nothing { }"), buildProperties: Ids("notes"));

        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal("CMP0021", diagnostic.Id);
        Assert.Contains("(this host's plugins: none)", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Notes")]
    [InlineData("notes plugin")]
    [InlineData("vendor.notes")]
    public void CMP0021_AnEntryThatIsNotAPluginId(string entry)
    {
        var library = BuildLibrary("Vendor.Notes", $$"""[ServerPlugin("notes")] public sealed class NotesPlugin : IServerPlugin { {{Init}} }""");
        var (result, _) = Run(Compile("My.Host", OutputKind.ConsoleApplication, [library], "public static class Nothing { }"), buildProperties: Ids(entry));

        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal("CMP0021", diagnostic.Id);
        Assert.Equal(
            $"<ComposeExclude Include=\"{entry}\" /> is not a plugin id (ids use only lowercase letters, digits, '-' and '_': ^[a-z0-9_-]+$), so it leaves nothing out; "
            + "write the plugin's id, as in its [ServerPlugin(\"...\")] or the catalog at GET /api/plugins (this host's plugins: 'notes')",
            diagnostic.GetMessage());
        Assert.Contains("typeof(global::NotesPlugin)", GeneratedSource(result, HostFile), StringComparison.Ordinal);
    }

    [Fact]
    public void CMP0021_AClassNameInComposeExclude_SuggestsThePluginsId()
    {
        var library = BuildLibrary("Vendor.Notes", $$"""
            namespace Vendor.Notes;
            [ServerPlugin("notes")] public sealed class NotesPlugin : IServerPlugin { {{Init}} }
            """);
        var (result, _) = Run(Compile("My.Host", OutputKind.ConsoleApplication, [library], "public static class Nothing { }"), buildProperties: Ids("Vendor.Notes.NotesPlugin"));

        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal("CMP0021", diagnostic.Id);
        Assert.Equal(
            "<ComposeExclude Include=\"Vendor.Notes.NotesPlugin\" /> names the class of server plugin 'notes', but ComposeExclude takes plugin ids, so it leaves nothing out; "
            + "write <ComposeExclude Include=\"notes\" />",
            diagnostic.GetMessage());
        Assert.Contains("typeof(global::Vendor.Notes.NotesPlugin)", GeneratedSource(result, HostFile), StringComparison.Ordinal);
    }

    [Fact]
    public void CMP0021_AClassNameInComposeExcludedPluginsThatMatchesNoPlugin()
    {
        var library = BuildLibrary("Vendor.Notes", $$"""
            namespace Vendor.Notes;
            [ServerPlugin("notes")] public sealed class NotesPlugin : IServerPlugin { {{Init}} }
            """);
        var (result, _) = Run(
            Compile("My.Host", OutputKind.ConsoleApplication, [library], "public static class Nothing { }"),
            buildProperties: new Dictionary<string, string> { ["ComposeExcludedPlugins"] = "NotesPlugin" });

        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal("CMP0021", diagnostic.Id);
        Assert.Equal(
            "ComposeExcludedPlugins names NotesPlugin, which is no server plugin class of this host, so it leaves nothing out; "
            + "write the plugin class's full name (namespace and class), or leave a plugin out by id with <ComposeExclude Include=\"plugin-id\" />",
            diagnostic.GetMessage());
    }

    [Fact]
    public void CMP0021_IsNotReportedByAPluginLibrary()
    {
        var (result, _) = Run(
            Compile("Vendor.Lib", OutputKind.DynamicallyLinkedLibrary, null, $$"""[ServerPlugin("lib")] public sealed class LibPlugin : IServerPlugin { {{Init}} }"""),
            buildProperties: Ids("nothing-here"));

        Assert.Empty(result.Diagnostics);
    }

    [Theory]
    [InlineData("bookmarks", "<ComposeExclude Include=\"bookmarks\" />")]
    [InlineData("", "<ComposeExcludedPlugins>Vendor.Bookmarks.BookmarksPlugin</ComposeExcludedPlugins>")]
    public void CMP0018_ExcludingADependencyOfAComposedPlugin_NamesTheExclusion(string ids, string setting)
    {
        var bookmarks = BuildLibrary("Vendor.Bookmarks", $$"""
            namespace Vendor.Bookmarks;
            [ServerPlugin("bookmarks")] public sealed class BookmarksPlugin : IServerPlugin { {{Init}} }
            """);
        var stats = BuildLibrary("Vendor.Stats", $$"""
            namespace Vendor.Stats;
            [ServerPlugin("bookmark-stats", DependsOn = ["bookmarks"])] public sealed class StatsPlugin : IServerPlugin { {{Init}} }
            """);
        var properties = new Dictionary<string, string> { ["_ComposeExcludeIds"] = ids };
        if (ids.Length == 0)
        {
            properties["ComposeExcludedPlugins"] = "Vendor.Bookmarks.BookmarksPlugin";
        }

        var compilation = Compile("My.Host", OutputKind.ConsoleApplication, [bookmarks, stats], "public static class Nothing { }");
        var (result, _) = Run(compilation, buildProperties: properties);

        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal("CMP0018", diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Equal(
            $"Server plugin 'bookmark-stats' (Vendor.Stats.StatsPlugin) depends on server plugin 'bookmarks', which this project leaves out at build time with {setting}; "
            + "remove that exclusion, or leave 'bookmark-stats' out too with <ComposeExclude Include=\"bookmark-stats\" />",
            diagnostic.GetMessage());
        Assert.DoesNotContain("bookmark", GeneratedSource(result, HostFile), StringComparison.Ordinal);

        // Doing what the message says builds: both left out.
        properties["_ComposeExcludeIds"] = ids + ",bookmark-stats";
        (result, var output) = Run(compilation, buildProperties: properties);
        Assert.Empty(result.Diagnostics);
        Assert.Empty(CompilerProblems(output));
    }

    [Fact]
    public void ExcludingOnlyADependent_ComposesItsDependency()
    {
        var library = BuildLibrary("Vendor.Bookmarks", $$"""
            [ServerPlugin("bookmarks")] public sealed class BookmarksPlugin : IServerPlugin { {{Init}} }
            [ServerPlugin("bookmark-stats", DependsOn = ["bookmarks"])] public sealed class StatsPlugin : IServerPlugin { {{Init}} }
            """);
        var (result, _) = Run(Compile("My.Host", OutputKind.ConsoleApplication, [library], "public static class Nothing { }"), buildProperties: Ids("bookmark-stats"));

        Assert.Empty(result.Diagnostics);
        var host = GeneratedSource(result, HostFile);
        Assert.Contains("typeof(global::BookmarksPlugin)", host, StringComparison.Ordinal);
        Assert.DoesNotContain("StatsPlugin", host, StringComparison.Ordinal);
    }

    private static Dictionary<string, string> Ids(string ids) => new() { ["_ComposeExcludeIds"] = ids };
}
