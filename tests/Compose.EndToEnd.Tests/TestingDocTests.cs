using System.Text.RegularExpressions;
using System.Xml.Linq;
using Compose.EndToEnd.Tests.Infrastructure;

namespace Compose.EndToEnd.Tests;

/// <summary>
/// docs/testing.md's complete example, pasted as a plugin author would: its files are written to a fresh folder and the
/// tests run against the packed Compose.Abstractions and Compose.Testing, so the page cannot rot.
/// </summary>
[Trait("Category", "EndToEnd")]
[Collection(EndToEndCollection.Name)]
public sealed class TestingDocTests(PackedFeedFixture feed)
{
    [Fact]
    public void Example_PinsTheTestPackagesThisRepositoryTestsWith()
    {
        var files = MarkdownFiles.Extract(RepoPaths.TestingDoc);
        Assert.Equal(
            ["Acme.Notes.Tests/Acme.Notes.Tests.csproj", "Acme.Notes.Tests/NotesPluginTests.cs", "Acme.Notes/Acme.Notes.csproj", "Acme.Notes/NotesPlugin.cs"],
            files.Keys.Order(StringComparer.Ordinal));

        var pinned = XDocument.Load(Path.Combine(RepoPaths.Root, "Directory.Packages.props")).Descendants("PackageVersion")
            .Where(p => p.Attribute("Condition") is null)
            .ToDictionary(p => (string)p.Attribute("Include")!, p => (string)p.Attribute("Version")!);
        var project = XDocument.Parse(files["Acme.Notes.Tests/Acme.Notes.Tests.csproj"]);
        foreach (var reference in project.Descendants("PackageReference"))
        {
            var id = (string)reference.Attribute("Include")!;
            var version = (string)reference.Attribute("Version")!;
            Assert.Equal(id.StartsWith("Compose.", StringComparison.Ordinal) ? RepoPaths.VersionPrefix : pinned[id], version);
        }
    }

    [Fact]
    public async Task Example_TestsPass_AgainstThePackedPackages()
    {
        feed.EnsurePacked();
        using var workspace = new NewcomerWorkspace("testing-doc", feed.Feed);
        MarkdownFiles.Write(MarkdownFiles.Extract(RepoPaths.TestingDoc), workspace.Directory, RepoPaths.VersionPrefix, feed.Version);

        var test = await workspace.DotNetAsync(null, null, "test", Path.Combine("Acme.Notes.Tests", "Acme.Notes.Tests.csproj"), "-p:TreatWarningsAsErrors=true");

        Assert.True(test.ExitCode == 0, test.Describe());
        Assert.Empty(DotNet.Warnings(test.Output));
        Assert.Matches(new Regex(@"Passed!\s+- Failed:\s+0, Passed:\s+2, Skipped:\s+0, Total:\s+2"), test.Output);
    }
}
