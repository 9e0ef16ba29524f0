using System.Net;
using Compose.EndToEnd.Tests.Infrastructure;

namespace Compose.EndToEnd.Tests;

/// <summary>
/// The README's quick starts, pasted as a newcomer would: every code block the README introduces with a file name
/// (a line <c>`path`:</c>) is written to that path in a fresh folder, built against the packed feed with
/// TreatWarningsAsErrors, and the host is run and its plugin route called. So the README cannot rot.
/// </summary>
[Trait("Category", "EndToEnd")]
[Collection(EndToEndCollection.Name)]
public sealed class ReadmeTests(PackedFeedFixture feed)
{
    [Fact]
    public void Readme_NamesTheFilesOfBothQuickStarts_AtThisRepositorysVersion()
    {
        var files = ReadmeFiles();

        Assert.Equal(
            ["HelloHost/HelloHost.csproj", "HelloHost/Program.cs", "HelloHost/appsettings.json", "HelloPlugin/HelloPlugin.csproj", "HelloPlugin/HelloWorldPlugin.cs"],
            files.Keys.Order(StringComparer.Ordinal));

        // The version the README tells newcomers to reference is the one this repository packs.
        var prefix = RepoPaths.VersionPrefix;
        foreach (var project in files.Where(f => f.Key.EndsWith(".csproj", StringComparison.Ordinal)))
        {
            Assert.Contains($"""<PackageReference Include="Compose.Abstractions" Version="{prefix}" />""", project.Value, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ReadmeQuickStarts_BuildAsPasted_AndTheHostServesTheRoute()
    {
        feed.EnsurePacked();
        using var workspace = new NewcomerWorkspace("readme", feed.Feed);
        var prefix = RepoPaths.VersionPrefix;

        // The one change: this run's packages, at a version no earlier run used, instead of the README's.
        MarkdownFiles.Write(ReadmeFiles(), workspace.Directory, prefix, feed.Version);

        var build = await workspace.DotNetAsync(null, null, "build", Path.Combine("HelloHost", "HelloHost.csproj"), "-p:TreatWarningsAsErrors=true");
        Assert.True(build.ExitCode == 0, build.Describe());
        Assert.Empty(DotNet.Warnings(build.Output));

        var hostDirectory = Path.Combine(workspace.Directory, "HelloHost");
        var dll = Path.Combine(hostDirectory, "bin", "Debug", "net10.0", "HelloHost.dll");
        await using var server = await RunningServer.StartAsync(DotNet.Executable, [dll], hostDirectory, "/api/plugins/hello-world/hello");
        await server.DiagnoseAsync(async () =>
        {
            var hello = (await server.GetAsync("/api/plugins/hello-world/hello")).AssertStatus(HttpStatusCode.OK);
            Assert.Equal("application/json", hello.MediaType);
            using var json = hello.Json();
            Assert.Equal("Hello from server plugin!", json.RootElement.GetProperty("message").GetString());
            Assert.Contains("Loaded plugin: Hello World (hello-world)", server.Process.Output, StringComparison.Ordinal);
        });
    }

    private static Dictionary<string, string> ReadmeFiles() => MarkdownFiles.Extract(RepoPaths.ReadMe);
}
