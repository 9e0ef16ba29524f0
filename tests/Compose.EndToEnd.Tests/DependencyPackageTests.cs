using System.Net;
using System.Text.Json;
using Compose.EndToEnd.Tests.Infrastructure;

namespace Compose.EndToEnd.Tests;

/// <summary>
/// Issue 11 from packages: Acme.Bookmarks registers a store, Acme.Stats (whose package references Acme.Bookmarks) uses
/// it and declares DependsOn = ["bookmarks"]. A fresh host references only Acme.Stats; NuGet brings Acme.Bookmarks
/// transitively, and Compose composes both, the dependency first, over real HTTP, under JIT and in the Native AOT
/// publish of the same host.
/// </summary>
[Trait("Category", "EndToEnd")]
[Collection(EndToEndCollection.Name)]
public sealed class DependencyPackageTests(PackedFeedFixture feed)
{
    [Fact]
    public async Task HostReferencingOnlyTheDependent_ComposesBoth_InDependencyOrder()
    {
        feed.EnsurePacked();
        using var temp = new TempDirectory("dependency-packages");
        var pluginFeed = temp.Sub("plugins");
        var packages = temp.Sub("nuget-packages");

        var bookmarks = temp.Sub("Acme.Bookmarks");
        WriteProject(bookmarks, "Acme.Bookmarks", string.Empty);
        File.WriteAllText(Path.Combine(bookmarks, "BookmarksPlugin.cs"), """
            using Compose;
            using Microsoft.AspNetCore.Builder;
            using Microsoft.AspNetCore.Routing;
            using Microsoft.Extensions.Configuration;
            using Microsoft.Extensions.DependencyInjection;

            namespace Acme.Bookmarks;

            public interface IBookmarkStore
            {
                int Count { get; }
            }

            public sealed class BookmarkStore : IBookmarkStore
            {
                public int Count => 42;
            }

            [ServerPlugin("bookmarks")]
            public sealed class BookmarksPlugin : IServerPlugin
            {
                public static void ConfigureServices(IServiceCollection services, IConfiguration configuration)
                    => services.AddSingleton<IBookmarkStore, BookmarkStore>();

                public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
                {
                    router.MapGet("/ping", () => "bookmarks");
                    return Task.CompletedTask;
                }
            }
            """);
        IsolatedProject.Write(bookmarks, packages, feed.Feed);
        await DotNet.RunSuccessfullyAsync(bookmarks, "pack", "Acme.Bookmarks.csproj", "-c", "Release", "-o", pluginFeed);

        var stats = temp.Sub("Acme.Stats");
        WriteProject(stats, "Acme.Stats", $"""<PackageReference Include="Acme.Bookmarks" Version="[{feed.Version},)" />""");
        File.WriteAllText(Path.Combine(stats, "StatsPlugin.cs"), """
            using Acme.Bookmarks;
            using Compose;
            using Microsoft.AspNetCore.Builder;
            using Microsoft.AspNetCore.Routing;

            namespace Acme.Stats;

            [ServerPlugin("bookmark-stats", DependsOn = ["bookmarks"])]
            public sealed class StatsPlugin(IBookmarkStore store) : IServerPlugin
            {
                public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
                {
                    router.MapGet("/count", () => store.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    return Task.CompletedTask;
                }
            }
            """);
        IsolatedProject.Write(stats, packages, feed.Feed, pluginFeed);
        await DotNet.RunSuccessfullyAsync(stats, "pack", "Acme.Stats.csproj", "-c", "Release", "-o", pluginFeed);

        var host = temp.Sub("host");
        File.WriteAllText(Path.Combine(host, "Host.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk.Web">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                <InvariantGlobalization>true</InvariantGlobalization>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="{PackedFeedFixture.AbstractionsId}" Version="{feed.Version}" />
                <PackageReference Include="Acme.Stats" Version="{feed.Version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(host, "Program.cs"), """
            var builder = WebApplication.CreateSlimBuilder(args);
            builder.Services.AddServerPlugins(builder.Configuration);
            var app = builder.Build();
            app.MapServerPlugins();
            app.MapServerPluginCatalog().AllowAnonymous();
            app.Run();
            """);
        IsolatedProject.Write(host, packages, feed.Feed, pluginFeed);
        await DotNet.RunSuccessfullyAsync(host, "build", "Host.csproj", "-c", "Release");

        var executable = Path.Combine(host, "bin", "Release", "net10.0", OperatingSystem.IsWindows() ? "Host.exe" : "Host");
        await using var server = await RunningServer.StartAsync(executable, [], host, "/api/plugins/bookmarks/ping");
        await server.DiagnoseAsync(async () =>
        {
            Assert.Equal("42", (await server.GetAsync("/api/plugins/bookmark-stats/count")).AssertStatus(HttpStatusCode.OK).Body);
            using var catalog = (await server.GetAsync("/api/plugins")).AssertStatus(HttpStatusCode.OK).Json();
            var plugins = catalog.RootElement.GetProperty("plugins").EnumerateArray().ToList();
            Assert.Equal(["bookmarks", "bookmark-stats"], plugins.Select(p => p.GetProperty("id").GetString()));
            Assert.Equal("bookmark-stats", plugins[0].GetProperty("dependents")[0].GetString());
            Assert.Equal("bookmarks", plugins[1].GetProperty("dependsOn")[0].GetString());
        });

        // Switching the dependency off leaves the dependent out too, with the reason, instead of a bare "No service for type".
        await using var without = await RunningServer.StartAsync(executable, ["--Compose:Plugins:bookmarks:Enabled=false"], host, "/api/plugins");
        await without.DiagnoseAsync(async () =>
        {
            (await without.GetAsync("/api/plugins/bookmark-stats/count")).AssertStatus(HttpStatusCode.NotFound);
            using var catalog = (await without.GetAsync("/api/plugins")).AssertStatus(HttpStatusCode.OK).Json();
            var stats = catalog.RootElement.GetProperty("plugins").EnumerateArray().Single(p => p.GetProperty("id").GetString() == "bookmark-stats");
            Assert.Equal("Disabled", stats.GetProperty("state").GetString());
            Assert.Equal("depends on 'bookmarks', which is disabled", stats.GetProperty("reason").GetString());
            Assert.Contains("Plugin 'bookmark-stats' is disabled: it depends on 'bookmarks', which is disabled", without.Process.Output, StringComparison.Ordinal);
        });

        // The same host published with Native AOT: the dependency order and the injected store hold in the native binary.
        var native = temp.Sub("native");
        var publish = await DotNet.RunAsync(host, "publish", "Host.csproj", "-c", "Release", "-r", AotPublishFixture.RuntimeIdentifier, "-p:PublishAot=true", "-o", native);
        Assert.True(publish.ExitCode == 0, publish.Describe());
        Assert.DoesNotMatch(@"(warning|error) IL[23]\d{3}", publish.Output);
        await using var aot = await RunningServer.StartAsync(Path.Combine(native, OperatingSystem.IsWindows() ? "Host.exe" : "Host"), [], native, "/api/plugins/bookmarks/ping");
        await aot.DiagnoseAsync(async () =>
        {
            Assert.Equal("42", (await aot.GetAsync("/api/plugins/bookmark-stats/count")).AssertStatus(HttpStatusCode.OK).Body);
            using var catalog = (await aot.GetAsync("/api/plugins")).AssertStatus(HttpStatusCode.OK).Json();
            Assert.Equal(["bookmarks", "bookmark-stats"], catalog.RootElement.GetProperty("plugins").EnumerateArray().Select(p => p.GetProperty("id").GetString()));
        });
    }

    private void WriteProject(string directory, string name, string references)
        => File.WriteAllText(Path.Combine(directory, $"{name}.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <Version>{feed.Version}</Version>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <FrameworkReference Include="Microsoft.AspNetCore.App" />
                <PackageReference Include="{PackedFeedFixture.AbstractionsId}" Version="{feed.Version}" />
                {references}
              </ItemGroup>
            </Project>
            """);
}
