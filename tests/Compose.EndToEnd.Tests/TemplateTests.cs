using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Compose.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Compose.EndToEnd.Tests;

/// <summary>
/// The template package as a newcomer uses it, from the packed feed, for net10.0 and net8.0 (see
/// <see cref="TemplateFixture"/>): both templates instantiate, build without a warning, the plugin's tests pass in
/// process and again against the host's Native AOT publish, and the host serves the plugin route and /health under
/// the JIT, as a native binary, and (net8.0) self-contained on the .NET 8 runtime.
/// </summary>
[Trait("Category", "Templates")]
[Collection(EndToEndCollection.Name)]
public sealed partial class TemplateTests(PackedFeedFixture feed, TemplateFixture templates, ITestOutputHelper output) : IClassFixture<TemplateFixture>
{
    private const string Greeting = $"/api/plugins/{TemplateFixture.PluginId}/greeting";

    public static TheoryData<string> Frameworks => new() { "net10.0", "net8.0" };

    [Theory]
    [MemberData(nameof(Frameworks))]
    public async Task Templates_Instantiate_ReferenceThisRunsPackages_AndBuildWithoutWarnings(string framework)
    {
        var run = await RunAsync(framework);
        var install = run.Step("install");
        Assert.Contains("compose-plugin", install.Output, StringComparison.Ordinal);
        Assert.Contains("compose-host", install.Output, StringComparison.Ordinal);

        // Installed into the private DOTNET_CLI_HOME, not the machine's.
        Assert.True(Directory.EnumerateFiles(run.Workspace.Home, "*.nupkg", SearchOption.AllDirectories).Any(f => Path.GetFileName(f).StartsWith("Compose.Templates", StringComparison.OrdinalIgnoreCase)), $"No Compose.Templates package under {run.Workspace.Home}");

        var plugin = File.ReadAllText(Path.Combine(run.PluginDirectory, TemplateFixture.PluginName + ".csproj"));
        var tests = File.ReadAllText(Path.Combine(run.TestsDirectory, TemplateFixture.PluginName + ".Tests.csproj"));
        var host = File.ReadAllText(run.HostProject);
        Assert.Contains($"<TargetFramework>{framework}</TargetFramework>", plugin, StringComparison.Ordinal);
        Assert.Contains($"<TargetFramework>{framework}</TargetFramework>", tests, StringComparison.Ordinal);
        Assert.Contains($"<TargetFramework>{framework}</TargetFramework>", host, StringComparison.Ordinal);
        Assert.Contains($"""<PackageReference Include="Compose.Abstractions" Version="{feed.Version}" />""", plugin, StringComparison.Ordinal);
        Assert.Contains($"""<PackageReference Include="Compose.Testing" Version="{feed.Version}" />""", tests, StringComparison.Ordinal);
        Assert.Contains($"""<PackageReference Include="Compose.Abstractions" Version="{feed.Version}" />""", host, StringComparison.Ordinal);
        Assert.Contains("<PublishAot>true</PublishAot>", host, StringComparison.Ordinal);
        Assert.Matches(@$"<ProjectReference Include=""\.\.[\\/]{Regex.Escape(TemplateFixture.PluginName)}[\\/]{Regex.Escape(TemplateFixture.PluginName)}\.csproj"" />", host);

        // The plugin's id and class come from its name.
        var source = File.ReadAllText(Path.Combine(run.PluginDirectory, "AcmeNotesPlugin.cs"));
        Assert.Contains($"""[ServerPlugin("{TemplateFixture.PluginId}", Name = "{TemplateFixture.PluginName}",""", source, StringComparison.Ordinal);
        Assert.Contains("public sealed class AcmeNotesPlugin(", source, StringComparison.Ordinal);

        var build = run.Step("build");
        Assert.Empty(DotNet.Warnings(build.Output));
        Assert.Matches(new Regex(@"^\s*0 Warning\(s\)", RegexOptions.Multiline), build.Output);
        foreach (var id in new[] { PackedFeedFixture.AbstractionsId, PackedFeedFixture.TestingId })
        {
            Assert.True(Directory.Exists(Path.Combine(run.Workspace.Packages, id.ToLowerInvariant(), feed.Version)), $"{id} {feed.Version} was not restored from the feed into {run.Workspace.Packages}");
        }
    }

    [Theory]
    [MemberData(nameof(Frameworks))]
    public async Task PluginTests_PassInProcess(string framework)
    {
        var run = await RunAsync(framework);
        var test = run.Step("test");

        Assert.Empty(DotNet.Warnings(test.Output));
        Assert.Matches(new Regex(@"Passed!\s+- Failed:\s+0, Passed:\s+4, Skipped:\s+0, Total:\s+4"), test.Output);
        Assert.Contains($"{TemplateFixture.PluginName}.Tests.dll ({framework})", test.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Net10Host_ServesThePluginRouteAndHealth()
    {
        var run = await RunAsync("net10.0");
        run.Step("build");

        await using var server = await RunningServer.StartAsync(DotNet.Executable, [run.HostDll], run.HostDirectory, "/health");
        await AssertServesAsync(server);
    }

    [Theory]
    [MemberData(nameof(Frameworks))]
    public async Task AotPublish_HasNoTrimOrAotWarnings_AndTheNativeHostServes(string framework)
    {
        var run = await RunAsync(framework);
        var publish = run.Step("publish aot");

        var warnings = publish.Output.Split('\n').Select(l => l.Trim()).Where(l => IlWarning().IsMatch(l)).Distinct().ToList();
        Assert.True(warnings.Count == 0, $"{warnings.Count} trim/AOT warning(s):{Environment.NewLine}{string.Join(Environment.NewLine, warnings)}");
        Assert.True(File.Exists(run.AotExecutable), $"{run.AotExecutable} was not produced.{Environment.NewLine}{publish.Describe()}");
        Assert.False(File.Exists(Path.Combine(run.AotDirectory, TemplateFixture.HostName + ".dll")), "The host was not compiled ahead of time: its IL assembly was published.");

        await using var server = await RunningServer.StartAsync(run.AotExecutable, [], run.AotDirectory, "/health");
        await AssertServesAsync(server);
    }

    [Fact]
    public async Task Net10_ThePluginsHttpTests_PassAgainstTheNativeHost()
    {
        var run = await RunAsync("net10.0");
        run.Step("publish aot");

        // The same test project, switched to the native binary by Compose.Testing's COMPOSE_TEST_NATIVE_HOST.
        var native = await run.Workspace.DotNetAsync(
            new Dictionary<string, string> { ["COMPOSE_TEST_NATIVE_HOST"] = run.AotExecutable },
            null,
            "test", run.TestsDirectory, "--no-build", "--filter", "FullyQualifiedName~HttpTests");
        Assert.True(native.ExitCode == 0, native.Describe());
        Assert.Matches(new Regex(@"Passed!\s+- Failed:\s+0, Passed:\s+1, Skipped:\s+0, Total:\s+1"), native.Output);

        // It did run against the variable's host: a host that does not exist fails the same test.
        var missing = await run.Workspace.DotNetAsync(
            new Dictionary<string, string> { ["COMPOSE_TEST_NATIVE_HOST"] = Path.Combine(run.AotDirectory, "no-such-host") },
            null,
            "test", run.TestsDirectory, "--no-build", "--filter", "FullyQualifiedName~HttpTests");
        Assert.NotEqual(0, missing.ExitCode);
        Assert.Contains("FileNotFoundException", missing.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Net8_SelfContainedHost_RunsOnTheDotNet8Runtime_AndServes()
    {
        var run = await RunAsync("net8.0");
        run.Step("publish self-contained");

        // The runtime came from the .NET 8 runtime packs on NuGet: the machine has only .NET 10.
        using (var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(run.SelfContainedDirectory, TemplateFixture.HostName + ".runtimeconfig.json"))))
        {
            var included = config.RootElement.GetProperty("runtimeOptions").GetProperty("includedFrameworks").EnumerateArray()
                .Single(f => f.GetProperty("name").GetString() == "Microsoft.NETCore.App");
            Assert.StartsWith("8.0.", included.GetProperty("version").GetString(), StringComparison.Ordinal);
        }

        await using var server = await RunningServer.StartAsync(run.SelfContainedExecutable, [], run.SelfContainedDirectory, "/health");
        await AssertServesAsync(server);
    }

    private async Task<TemplateRun> RunAsync(string framework)
    {
        var run = await templates.RunAsync(feed, framework);
        output.WriteLine($"{framework}: {run.Duration.TotalSeconds:F0}s in all ({run.Timings})");
        return run;
    }

    private static async Task AssertServesAsync(RunningServer server) => await server.DiagnoseAsync(async () =>
    {
        var greeting = (await server.GetAsync($"{Greeting}?name=Ada")).AssertStatus(HttpStatusCode.OK);
        using (var json = greeting.Json())
        {
            Assert.Equal("Hello, Ada!", json.RootElement.GetProperty("message").GetString());
        }

        var echo = (await server.PostJsonAsync($"/api/plugins/{TemplateFixture.PluginId}/echo", """{"text":"hi"}""")).AssertStatus(HttpStatusCode.OK);
        using (var json = echo.Json())
        {
            Assert.Equal(2, json.RootElement.GetProperty("length").GetInt32());
        }

        (await server.PostJsonAsync($"/api/plugins/{TemplateFixture.PluginId}/echo", "{}")).AssertStatus(HttpStatusCode.BadRequest);
        Assert.Equal("Healthy", (await server.GetAsync("/health")).AssertStatus(HttpStatusCode.OK).Body);
        using (var catalog = (await server.GetAsync("/api/plugins")).AssertStatus(HttpStatusCode.OK).Json())
        {
            var plugin = Assert.Single(catalog.RootElement.GetProperty("plugins").EnumerateArray());
            Assert.Equal(TemplateFixture.PluginId, plugin.GetProperty("id").GetString());
            Assert.Equal("Running", plugin.GetProperty("state").GetString());
        }

        Assert.Contains($"Loaded plugin: {TemplateFixture.PluginName} ({TemplateFixture.PluginId})", server.Process.Output, StringComparison.Ordinal);
    });

    [GeneratedRegex(@"(warning|error) IL[23]\d{3}", RegexOptions.CultureInvariant)]
    private static partial Regex IlWarning();
}
