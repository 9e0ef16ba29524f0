using System.Net;
using System.Text.RegularExpressions;
using Compose.EndToEnd.Tests.Infrastructure;

namespace Compose.EndToEnd.Tests;

/// <summary>
/// Plugins are ordinary NuGet packages: Compose.Abstractions and the sample plugins are packed, and a brand-new host
/// outside the repository restores them from a folder feed, builds, runs and serves the plugins' routes.
/// </summary>
[Trait("Category", "EndToEnd")]
[Collection(EndToEndCollection.Name)]
public sealed class PackageTests(PackedFeedFixture feed)
{
    private const string HostAssemblyName = "Compose.E2E.PackageHost";

    [Fact]
    public void AbstractionsPackage_CarriesRuntimeGeneratorBuildPropsReadmeAndMetadata()
    {
        using var package = new NuGetPackage(feed.PackagePath(PackedFeedFixture.AbstractionsId));
        var entries = package.EntryNames;
        var listing = string.Join(Environment.NewLine, entries);

        foreach (var expected in new[]
                 {
                     "lib/net8.0/Compose.Abstractions.dll",
                     "lib/net10.0/Compose.Abstractions.dll",
                     "analyzers/dotnet/cs/Compose.Generator.dll",
                     "build/Compose.Abstractions.props",
                     "buildTransitive/Compose.Abstractions.props",
                     "README.md",
                 })
        {
            Assert.True(entries.Contains(expected), $"{expected} is missing from {package.Path}. It holds:{Environment.NewLine}{listing}");
        }

        // The generator is loaded by the compiler only: never a run-time reference, never a package dependency.
        var misplaced = entries.Where(e => e.EndsWith("Compose.Generator.dll", StringComparison.OrdinalIgnoreCase) && !e.StartsWith("analyzers/dotnet/cs/", StringComparison.Ordinal)).ToList();
        Assert.True(misplaced.Count == 0, $"The generator is packed outside analyzers/dotnet/cs: {string.Join(", ", misplaced)}");
        Assert.DoesNotContain(package.Dependencies, d => d.Id.StartsWith("Compose.", StringComparison.OrdinalIgnoreCase));

        // The packed generator is the one built by this pack, not a stale build output.
        Assert.Equal(feed.Version, AssemblyMetadata.InformationalVersion(package.Read("analyzers/dotnet/cs/Compose.Generator.dll")));

        // The build props shipped are the ones in the repository.
        var props = File.ReadAllText(Path.Combine(RepoPaths.Root, "src", "Abstractions", "build", "Compose.Abstractions.props"));
        Assert.Equal(props.ReplaceLineEndings(), System.Text.Encoding.UTF8.GetString(package.Read("build/Compose.Abstractions.props")).TrimStart('\uFEFF').ReplaceLineEndings());
        Assert.Contains("Compose.Abstractions.props", System.Text.Encoding.UTF8.GetString(package.Read("buildTransitive/Compose.Abstractions.props")), StringComparison.Ordinal);
        Assert.Contains("# Compose.Abstractions", System.Text.Encoding.UTF8.GetString(package.Read("README.md")), StringComparison.Ordinal);

        var nuspec = package.Nuspec.ToString();
        Assert.Equal(feed.Version, package.Metadata("version")?.Value);
        var license = package.Metadata("license");
        Assert.True(license is not null && (string?)license.Attribute("type") == "expression" && license.Value == "MIT", $"No MIT license expression in:{Environment.NewLine}{nuspec}");
        var repository = package.Metadata("repository");
        var repositoryUrl = (string?)repository?.Attribute("url");
        Assert.True(
            Uri.TryCreate(repositoryUrl, UriKind.Absolute, out var url) && url.Scheme == Uri.UriSchemeHttps,
            $"No https repository url in:{Environment.NewLine}{nuspec}");
        Assert.False(string.IsNullOrWhiteSpace(package.Metadata("description")?.Value), $"No description in:{Environment.NewLine}{nuspec}");
        Assert.Equal("README.md", package.Metadata("readme")?.Value);
    }

    [Theory]
    [InlineData(PackedFeedFixture.HelloWorldId)]
    [InlineData(PackedFeedFixture.LlmProxyId)]
    public void PluginPackage_CarriesItsAssemblyAndDependsOnAbstractions(string id)
    {
        using var package = new NuGetPackage(feed.PackagePath(id));
        var listing = string.Join(Environment.NewLine, package.EntryNames);

        Assert.True(package.EntryNames.Contains($"lib/net10.0/{id}.dll"), $"lib/net10.0/{id}.dll is missing from {package.Path}. It holds:{Environment.NewLine}{listing}");
        Assert.DoesNotContain(package.EntryNames, e => e.EndsWith("Compose.Abstractions.dll", StringComparison.OrdinalIgnoreCase) || e.EndsWith("Compose.Generator.dll", StringComparison.OrdinalIgnoreCase));

        // Compose.Abstractions flows as a package dependency at this run's version; the generator and analyzers do not.
        var dependencies = package.Dependencies;
        var abstractions = dependencies.Where(d => d.Id == PackedFeedFixture.AbstractionsId).ToList();
        Assert.True(abstractions.Count > 0, $"{id} does not depend on {PackedFeedFixture.AbstractionsId}:{Environment.NewLine}{package.Nuspec}");
        Assert.All(abstractions, d => Assert.Contains(feed.Version, d.Version, StringComparison.Ordinal));
        Assert.DoesNotContain(dependencies, d => d.Id is "Compose.Generator" or "Compose.Analyzers");
    }

    [Fact]
    public async Task NewHost_RestoresThePackages_BuildsWithoutWarnings_AndServesThePluginRoutes()
    {
        feed.EnsurePacked();
        using var temp = new TempDirectory("package-host");
        var hostDirectory = temp.Sub("host");
        var packagesFolder = temp.Sub("nuget-packages");
        WriteHostProject(hostDirectory, packagesFolder);

        // Restore and build from the packages alone (an isolated global packages folder: nothing cached, nothing from the repository).
        var build = await DotNet.RunSuccessfullyAsync(hostDirectory, "build", $"{HostAssemblyName}.csproj", "-p:EmitCompilerGeneratedFiles=true");
        var warnings = DotNet.Warnings(build.Output);
        Assert.True(warnings.Count == 0, $"The host built with {warnings.Count} warning(s):{Environment.NewLine}{string.Join(Environment.NewLine, warnings)}{Environment.NewLine}{build.Describe()}");
        Assert.Matches(new Regex(@"^\s*0 Warning\(s\)", RegexOptions.Multiline), build.Output);

        foreach (var id in new[] { PackedFeedFixture.AbstractionsId, PackedFeedFixture.HelloWorldId, PackedFeedFixture.LlmProxyId })
        {
            var restored = Path.Combine(packagesFolder, id.ToLowerInvariant(), feed.Version);
            Assert.True(Directory.Exists(restored), $"{id} {feed.Version} was not restored into {packagesFolder}.{Environment.NewLine}{build.Describe()}");
        }

        // The generator from the package ran in the host build and composed both plugin packages.
        var objDirectory = Path.Combine(hostDirectory, "obj");
        var generated = Directory.GetFiles(objDirectory, "Compose.Host.g.cs", SearchOption.AllDirectories);
        Assert.True(generated.Length == 1, $"Expected one Compose.Host.g.cs under {objDirectory}, found {generated.Length}:{Environment.NewLine}{string.Join(Environment.NewLine, Directory.GetFiles(objDirectory, "*.g.cs", SearchOption.AllDirectories))}");
        var hostSource = File.ReadAllText(generated[0]);
        Assert.Contains("=> new(\"hello-world\", ", hostSource, StringComparison.Ordinal); // its descriptor
        Assert.Contains("=> new(\"llm-proxy\", ", hostSource, StringComparison.Ordinal);
        Assert.Contains("global::HelloWorld.HelloWorldPlugin", hostSource, StringComparison.Ordinal);
        Assert.Contains("global::LlmProxy.LlmProxyPlugin", hostSource, StringComparison.Ordinal);
        Assert.Contains(feed.Version, hostSource, StringComparison.Ordinal); // written by the packed generator

        var dll = Path.Combine(hostDirectory, "bin", "Debug", "net10.0", $"{HostAssemblyName}.dll");
        Assert.True(File.Exists(dll), $"{dll} was not built.{Environment.NewLine}{build.Describe()}");

        await using var server = await RunningServer.StartAsync(DotNet.Executable, [dll], hostDirectory, "/api/plugins/hello-world/hello");
        await server.DiagnoseAsync(async () =>
        {
            var hello = (await server.GetAsync("/api/plugins/hello-world/hello")).AssertStatus(HttpStatusCode.OK);
            Assert.Equal("application/json", hello.MediaType);
            using (var json = hello.Json())
            {
                Assert.Equal("Hello from server plugin!", json.RootElement.GetProperty("message").GetString());
                var time = json.RootElement.GetProperty("time").GetDateTimeOffset();
                Assert.InRange(time, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(5));
            }

            var status = (await server.GetAsync("/api/plugins/llm-proxy/status")).AssertStatus(HttpStatusCode.OK);
            using (var json = status.Json())
            {
                Assert.False(json.RootElement.GetProperty("configured").GetBoolean(), status.ToString());
                Assert.Equal("not set", json.RootElement.GetProperty("model").GetString());
            }

            // Only the plugins' own routes under the prefix exist.
            (await server.GetAsync("/hello")).AssertStatus(HttpStatusCode.NotFound);
            (await server.GetAsync("/api/plugins/hello-world/nope")).AssertStatus(HttpStatusCode.NotFound);
            (await server.GetAsync("/api/plugins/unknown/hello")).AssertStatus(HttpStatusCode.NotFound);

            Assert.False(server.Process.HasExited, server.Process.Output);
            Assert.Contains("Loaded plugin: Hello World (hello-world)", server.Process.Output, StringComparison.Ordinal);
            Assert.Contains("Loaded plugin: LLM API Proxy (llm-proxy)", server.Process.Output, StringComparison.Ordinal);

            // The plugin package's static web assets (its wwwroot) are served under /plugins/{id}/.
            var script = (await server.GetAsync("/plugins/hello-world/index.js")).AssertStatus(HttpStatusCode.OK);
            Assert.Equal("text/javascript", script.MediaType);
            Assert.Contains("export async function greet", script.Body, StringComparison.Ordinal);
        });
    }

    /// <summary>Writes a host that knows nothing of this repository: a Web SDK project, a Program.cs and its own nuget.config.</summary>
    private void WriteHostProject(string directory, string packagesFolder)
    {
        File.WriteAllText(Path.Combine(directory, $"{HostAssemblyName}.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk.Web">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <InvariantGlobalization>true</InvariantGlobalization>
                <!-- Trim and AOT analysis of the host and the code generated into it. -->
                <EnableTrimAnalyzer>true</EnableTrimAnalyzer>
                <EnableAotAnalyzer>true</EnableAotAnalyzer>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="{PackedFeedFixture.AbstractionsId}" Version="{feed.Version}" />
                <PackageReference Include="{PackedFeedFixture.HelloWorldId}" Version="{feed.Version}" />
                <PackageReference Include="{PackedFeedFixture.LlmProxyId}" Version="{feed.Version}" />
              </ItemGroup>
            </Project>
            """);

        File.WriteAllText(Path.Combine(directory, "Program.cs"), """
            var builder = WebApplication.CreateSlimBuilder(args);
            builder.Services.AddServerPlugins(builder.Configuration);
            builder.WebHost.UseStaticWebAssets();

            var app = builder.Build();
            app.MapServerPlugins();
            app.Run();
            """);

        IsolatedProject.Write(directory, packagesFolder, feed.Feed);
    }
}
