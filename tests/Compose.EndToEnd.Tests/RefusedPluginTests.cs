using System.Net;
using Compose.EndToEnd.Tests.Infrastructure;

namespace Compose.EndToEnd.Tests;

/// <summary>
/// A host refuses invalid plugin packages at build time, with a message a newcomer understands: a package whose
/// author suppressed an invalid-id error, and two packages that claim the same id; and a host leaves plugins out at
/// build time (<c>&lt;ComposeExclude Include="id" /&gt;</c>), said in its build output, their code never run. Everything
/// is real: the plugin projects are packed, and a fresh host restores them from a folder feed and is built.
/// </summary>
[Trait("Category", "EndToEnd")]
[Collection(EndToEndCollection.Name)]
public sealed class RefusedPluginTests(PackedFeedFixture feed)
{
    [Fact]
    public async Task HostRefusesAPluginPackageWhoseInvalidIdWasSuppressed()
    {
        using var temp = new TempDirectory("refused-suppressed");
        var pluginFeed = temp.Sub("plugins");
        await PackPluginAsync(temp, pluginFeed, "Acme.Shouting", "ShoutingPlugin", "Shouting.Plugin", suppress: "CMP0001");

        var build = await BuildHostAsync(temp, pluginFeed, "Acme.Shouting");

        Assert.NotEqual(0, build.ExitCode);
        Assert.Contains("error CMP0010", build.Output, StringComparison.Ordinal);
        Assert.Contains("Server plugin 'Shouting.Plugin' (Acme.Shouting.ShoutingPlugin) in referenced assembly Acme.Shouting breaks Compose rule(s) CMP0001", build.Output, StringComparison.Ordinal);
        Assert.Contains("fix the plugin and rebuild its package, or remove the reference to Acme.Shouting", build.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HostRefusesTwoPluginPackagesWithTheSameId()
    {
        using var temp = new TempDirectory("refused-duplicate");
        var pluginFeed = temp.Sub("plugins");
        await PackPluginAsync(temp, pluginFeed, "Acme.Notes", "NotesPlugin", "notes", suppress: null);
        await PackPluginAsync(temp, pluginFeed, "Contoso.Notes", "ContosoNotesPlugin", "notes", suppress: null);

        var build = await BuildHostAsync(temp, pluginFeed, "Acme.Notes", "Contoso.Notes");

        Assert.NotEqual(0, build.ExitCode);
        Assert.Contains("error CMP0002", build.Output, StringComparison.Ordinal);
        Assert.Contains("The server plugin id 'notes' is used by Acme.Notes.NotesPlugin from the referenced package Acme.Notes and by Contoso.Notes.ContosoNotesPlugin from the referenced package Contoso.Notes", build.Output, StringComparison.Ordinal);
        Assert.Contains("switch one plugin off with <ComposeExcludedPlugins>Contoso.Notes.ContosoNotesPlugin</ComposeExcludedPlugins>", build.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HostSwitchesOneOfTwoPluginsWithTheSameIdOffAtBuildTime()
    {
        using var temp = new TempDirectory("excluded-duplicate");
        var pluginFeed = temp.Sub("plugins");
        await PackPluginAsync(temp, pluginFeed, "Acme.Notes", "NotesPlugin", "notes", suppress: null);
        await PackPluginAsync(temp, pluginFeed, "Contoso.Notes", "ContosoNotesPlugin", "notes", suppress: null);

        var build = await BuildHostWithPropertiesAsync(temp, pluginFeed, "<ComposeExcludedPlugins>Contoso.Notes.ContosoNotesPlugin</ComposeExcludedPlugins>", string.Empty, "Acme.Notes", "Contoso.Notes");

        Assert.True(build.ExitCode == 0, build.Describe());
        Assert.DoesNotContain("CMP0002", build.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HostLeavesAPluginPackageOutWithComposeExclude_SaysSoInTheBuild_AndNeverRunsItsCode()
    {
        using var temp = new TempDirectory("excluded-by-id");
        var pluginFeed = temp.Sub("plugins");
        await PackPluginAsync(temp, pluginFeed, "Acme.Notes", "NotesPlugin", "notes", suppress: null);
        await PackPluginAsync(temp, pluginFeed, "Contoso.Tags", "TagsPlugin", "tags", suppress: null);

        var build = await BuildHostWithPropertiesAsync(
            temp,
            pluginFeed,
            string.Empty,
            """<ComposeExclude Include="notes" /><ComposeExclude Include="note-typo" />""",
            "Acme.Notes",
            "Contoso.Tags");

        // The default console logger's verbosity shows the report (high importance) and the warning for the typo.
        Assert.True(build.ExitCode == 0, build.Describe());
        Assert.Contains("Compose: Host leaves out server plugin 'notes' at build time (ComposeExclude): its code is never called and its routes are not mapped", build.Output, StringComparison.Ordinal);
        Assert.Contains("warning CMP0021: <ComposeExclude Include=\"note-typo\" /> matches no server plugin of this host, so it leaves nothing out (this host's plugins: 'notes', 'tags')", build.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("warning CMP0021: <ComposeExclude Include=\"notes\"", build.Output, StringComparison.Ordinal);

        var host = temp.Sub("host");
        var executable = Path.Combine(host, "bin", "Debug", "net10.0", OperatingSystem.IsWindows() ? "Host.exe" : "Host");
        await using var server = await RunningServer.StartAsync(executable, [], host, "/api/plugins/tags/ping");
        await server.DiagnoseAsync(async () =>
        {
            Assert.Equal("pong from tags", (await server.GetAsync("/api/plugins/tags/ping")).AssertStatus(HttpStatusCode.OK).Body);
            (await server.GetAsync("/api/plugins/notes/ping")).AssertStatus(HttpStatusCode.NotFound);
            using (var catalog = (await server.GetAsync("/api/plugins")).AssertStatus(HttpStatusCode.OK).Json())
            {
                Assert.Equal(["tags"], catalog.RootElement.GetProperty("plugins").EnumerateArray().Select(p => p.GetProperty("id").GetString()));
            }

            // The composed plugin's code ran (ConfigureServices, constructor); none of the excluded one's did.
            Assert.Contains("[tags] ConfigureServices ran", server.Process.Output, StringComparison.Ordinal);
            Assert.Contains("[tags] constructed", server.Process.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("[notes]", server.Process.Output, StringComparison.Ordinal);
        });
    }

    private async Task PackPluginAsync(TempDirectory temp, string pluginFeed, string name, string className, string id, string? suppress)
    {
        feed.EnsurePacked();
        var directory = temp.Sub(name);
        File.WriteAllText(Path.Combine(directory, $"{name}.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <Version>{feed.Version}</Version>
                <NoWarn>$(NoWarn);{suppress}</NoWarn>
              </PropertyGroup>
              <ItemGroup>
                <FrameworkReference Include="Microsoft.AspNetCore.App" />
                <PackageReference Include="{PackedFeedFixture.AbstractionsId}" Version="{feed.Version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(directory, $"{className}.cs"), $$"""
            using Compose;
            using Microsoft.AspNetCore.Builder;
            using Microsoft.AspNetCore.Routing;
            using Microsoft.Extensions.Configuration;
            using Microsoft.Extensions.DependencyInjection;

            namespace {{name}};

            [ServerPlugin("{{id}}")]
            public sealed class {{className}} : IServerPlugin
            {
                public {{className}}() => Console.WriteLine("[{{id}}] constructed");

                public static void ConfigureServices(IServiceCollection services, IConfiguration configuration) => Console.WriteLine("[{{id}}] ConfigureServices ran");

                public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
                {
                    router.MapGet("/ping", () => "pong from {{id}}");
                    return Task.CompletedTask;
                }
            }
            """);
        IsolatedProject.Write(directory, temp.Sub("nuget-packages"), feed.Feed);
        await DotNet.RunSuccessfullyAsync(directory, "pack", $"{name}.csproj", "-c", "Release", "-o", pluginFeed);
    }

    private Task<ProcessResult> BuildHostAsync(TempDirectory temp, string pluginFeed, params string[] plugins)
        => BuildHostWithPropertiesAsync(temp, pluginFeed, string.Empty, string.Empty, plugins);

    private async Task<ProcessResult> BuildHostWithPropertiesAsync(TempDirectory temp, string pluginFeed, string properties, string items, params string[] plugins)
    {
        var directory = temp.Sub("host");
        var references = string.Join(Environment.NewLine, plugins.Select(p => $"""    <PackageReference Include="{p}" Version="{feed.Version}" />"""));
        File.WriteAllText(Path.Combine(directory, "Host.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk.Web">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                {properties}
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="{PackedFeedFixture.AbstractionsId}" Version="{feed.Version}" />
            {references}
                {items}
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(directory, "Program.cs"), """
            var builder = WebApplication.CreateSlimBuilder(args);
            builder.Services.AddServerPlugins(builder.Configuration);
            var app = builder.Build();
            app.MapServerPlugins();
            app.MapServerPluginCatalog();
            app.Run();
            """);
        IsolatedProject.Write(directory, temp.Sub("nuget-packages"), feed.Feed, pluginFeed);
        return await DotNet.RunAsync(directory, "build", "Host.csproj");
    }
}
