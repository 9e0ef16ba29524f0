using System.Diagnostics;
using System.Net;
using Compose.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Compose.EndToEnd.Tests;

/// <summary>
/// The inner loop of a plugin author, with the real CLI: <c>dotnet watch</c> applies edits of a plugin (a handler body,
/// a new route in InitAsync) and the host serves them without a restart; data a plugin writes under <c>dotnet run</c>
/// stays out of <c>dotnet publish</c> output. The host and the plugin are fresh projects outside the repository that
/// reference Compose from source (src/Compose.InRepo.props), as a project in a solution beside Compose would.
/// </summary>
[Trait("Category", "EndToEnd")]
[Collection(EndToEndCollection.Name)]
public sealed class DevelopmentLoopTests(ITestOutputHelper output)
{
    /// <summary>How long one applied edit may take to be served (a loaded 2-core machine; it takes a few seconds idle).</summary>
    private static readonly TimeSpan EditBound = TimeSpan.FromSeconds(90);

    /// <summary>How long <c>dotnet watch</c> may take to build and start the host.</summary>
    private static readonly TimeSpan StartBound = TimeSpan.FromMinutes(10);

    [Fact]
    public async Task DotnetWatch_ServesAnEditedHandler_AndARouteAddedInInitAsync_WithoutARestart()
    {
        using var temp = new TempDirectory("watch");
        var (host, plugin) = WriteWorkspace(temp, """
            [ServerPlugin("devloop", Name = "Dev loop")]
            public sealed class DevLoopPlugin : IServerPlugin
            {
                private static int s_instances;
                private readonly int _instance = Interlocked.Increment(ref s_instances);

                public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
                {
                    router.MapGet("/hello", () => "hello v1");
                    return Task.CompletedTask;
                }

                public Task ExitAsync(CancellationToken cancellationToken)
                {
                    Console.WriteLine($"devloop: ExitAsync of instance {_instance}");
                    return Task.CompletedTask;
                }
            }
            """);
        var pluginFile = Path.Combine(plugin, "Plugin.cs");
        var port = ChildProcess.FreeTcpPort();
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(30) };
        await using var watch = ChildProcess.Start(
            DotNet.Executable,
            ["watch", "run", "--non-interactive", "--project", Path.Combine(host, "Host.csproj")],
            host,
            new Dictionary<string, string>
            {
                ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
                ["ASPNETCORE_ENVIRONMENT"] = "Development",
                ["DOTNET_WATCH_SUPPRESS_LAUNCH_BROWSER"] = "1",
                ["DOTNET_WATCH_SUPPRESS_EMOJIS"] = "1",
            });

        try
        {
            Assert.Equal("hello v1", await WaitForAsync(watch, client, "/api/plugins/devloop/hello", "hello v1", StartBound));

            // A handler body: hot reload replaces the method; the route is served with the new body.
            var handlerEdit = Stopwatch.StartNew();
            Edit(pluginFile, "() => \"hello v1\"", "() => \"hello v2\"");
            await WaitForAsync(watch, client, "/api/plugins/devloop/hello", "hello v2", EditBound);
            output.WriteLine($"Handler body edit served after {handlerEdit.Elapsed.TotalSeconds:F1} s.");

            // A route added in InitAsync: Compose initialises the plugin again on the new code and swaps its routes.
            var routeEdit = Stopwatch.StartNew();
            Edit(pluginFile, "router.MapGet(\"/hello\", () => \"hello v2\");", "router.MapGet(\"/hello\", () => \"hello v2\");\n        router.MapGet(\"/bye\", () => \"bye\");");
            await WaitForAsync(watch, client, "/api/plugins/devloop/bye", "bye", EditBound);
            output.WriteLine($"New route served after {routeEdit.Elapsed.TotalSeconds:F1} s.");
            Assert.Equal("hello v2", await client.GetStringAsync("/api/plugins/devloop/hello"));

            // Applied as a hot reload (not a restart): the old instance exited, the new one serves, one process.
            var log = watch.Output;
            Assert.Contains("Code of plugin 'devloop' (Dev loop) was updated (hot reload)", log, StringComparison.Ordinal);
            Assert.Contains("devloop: ExitAsync of instance 1", log, StringComparison.Ordinal);
            Assert.Equal(1, CountOf(log, "Now listening on"));
        }
        catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
        {
            throw new Xunit.Sdk.XunitException($"{ex.Message}{Environment.NewLine}{ChildProcess.Describe(watch.CommandLine, "was running", watch.Output)}");
        }
        catch (Xunit.Sdk.XunitException ex)
        {
            throw new Xunit.Sdk.XunitException($"{ex.Message}{Environment.NewLine}{ChildProcess.Describe(watch.CommandLine, "was running", watch.Output)}");
        }
    }

    [Fact]
    public async Task DataAPluginWritesUnderDotnetRun_IsNotInBuildOrPublishOutput()
    {
        using var temp = new TempDirectory("devdata");
        var (host, _) = WriteWorkspace(temp, """
            [ServerPlugin("notes")]
            public sealed class NotesPlugin(IServerPluginContext context) : IServerPlugin
            {
                public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
                {
                    router.MapPost("/notes", async (HttpRequest request) =>
                    {
                        using var reader = new StreamReader(request.Body);
                        await File.WriteAllTextAsync(Path.Combine(context.DataDirectory, "notes.json"), await reader.ReadToEndAsync());
                        return Results.NoContent();
                    });
                    return Task.CompletedTask;
                }
            }
            """);

        // Built first, so the start-up bound of RunningServer is about starting, not compiling.
        await DotNet.RunSuccessfullyAsync(host, "build", "Host.csproj");
        await using (var server = await RunningServer.StartAsync(
            DotNet.Executable,
            ["run", "--project", Path.Combine(host, "Host.csproj"), "--no-build", "--no-launch-profile", "--"],
            host,
            "/api/plugins",
            new Dictionary<string, string> { ["ASPNETCORE_ENVIRONMENT"] = "Development" }))
        {
            await server.DiagnoseAsync(async () =>
                (await server.PostJsonAsync("/api/plugins/notes/notes", """{"secret":"the developer's own note"}""")).AssertStatus(HttpStatusCode.NoContent));
        }

        // dotnet run's content root is the project folder: that is where the data went.
        var written = Path.Combine(host, "App_Data", "plugins", "notes", "notes.json");
        Assert.True(File.Exists(written), $"{written} was not written.");

        var publishFolder = Path.Combine(temp.Path, "publish");
        await DotNet.RunSuccessfullyAsync(host, "publish", "Host.csproj", "-c", "Release", "-o", publishFolder);
        Assert.True(File.Exists(Path.Combine(publishFolder, "Host.dll")), "The publish produced no Host.dll.");
        foreach (var folder in new[] { publishFolder, Path.Combine(host, "bin") })
        {
            var shipped = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
                .Where(f => f.Contains("App_Data", StringComparison.OrdinalIgnoreCase) || Path.GetFileName(f) == "notes.json")
                .ToList();
            Assert.True(shipped.Count == 0, $"Development data ended up in {folder}: {string.Join(", ", shipped)}");
        }
    }

    /// <summary>Writes a plugin project (its class in Plugin.cs) and a host referencing it, both on Compose from source.</summary>
    private static (string Host, string Plugin) WriteWorkspace(TempDirectory temp, string pluginClass)
    {
        foreach (var name in new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props" })
        {
            File.WriteAllText(Path.Combine(temp.Path, name), "<Project />");
        }

        var inRepo = Path.Combine(RepoPaths.Root, "src", "Compose.InRepo.props");
        var plugin = temp.Sub("Plugin");
        File.WriteAllText(Path.Combine(plugin, "Plugin.csproj"), Project("Microsoft.NET.Sdk", """<FrameworkReference Include="Microsoft.AspNetCore.App" />""", inRepo));
        File.WriteAllText(Path.Combine(plugin, "Plugin.cs"), $"""
            using Compose;
            using Microsoft.AspNetCore.Builder;
            using Microsoft.AspNetCore.Http;
            using Microsoft.AspNetCore.Routing;

            namespace DevLoop;

            {pluginClass}
            """);

        var host = temp.Sub("Host");
        File.WriteAllText(Path.Combine(host, "Host.csproj"), Project("Microsoft.NET.Sdk.Web", """<ProjectReference Include="../Plugin/Plugin.csproj" />""", inRepo));
        File.WriteAllText(Path.Combine(host, "Program.cs"), """
            var builder = WebApplication.CreateSlimBuilder(args);
            builder.Services.AddServerPlugins(builder.Configuration);
            var app = builder.Build();
            app.MapServerPlugins();
            app.MapServerPluginCatalog();
            app.Run();
            """);
        return (host, plugin);
    }

    private static void Edit(string file, string find, string replace)
    {
        var text = File.ReadAllText(file);
        Assert.Contains(find, text, StringComparison.Ordinal);
        File.WriteAllText(file, text.Replace(find, replace, StringComparison.Ordinal));
    }

    /// <summary>Polls <paramref name="path"/> until it answers 200 with <paramref name="body"/>; fails after <paramref name="bound"/> or when the process exits.</summary>
    private static async Task<string> WaitForAsync(ChildProcess process, HttpClient client, string path, string body, TimeSpan bound)
    {
        var deadline = Stopwatch.StartNew();
        var last = "no answer";
        while (deadline.Elapsed < bound)
        {
            Assert.False(process.HasExited, $"The host exited before {path} answered '{body}'.");
            try
            {
                using var response = await client.GetAsync(path);
                var text = await response.Content.ReadAsStringAsync();
                if (response.StatusCode == HttpStatusCode.OK && text == body)
                {
                    return text;
                }

                last = $"{(int)response.StatusCode} {text}";
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                last = ex.Message;
            }

            await Task.Delay(250);
        }

        throw new Xunit.Sdk.XunitException($"{path} did not answer 200 '{body}' within {bound.TotalSeconds:F0} s (last: {last}).");
    }

    private static int CountOf(string text, string value)
    {
        var count = 0;
        for (var i = text.IndexOf(value, StringComparison.Ordinal); i >= 0; i = text.IndexOf(value, i + value.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    /// <summary>An in-repo net10.0 project file (nullable, warnings as errors) with one item and the in-repo props.</summary>
    private static string Project(string sdk, string item, string inRepo) => $"""
        <Project Sdk="{sdk}">
          <PropertyGroup>
            <TargetFramework>net10.0</TargetFramework>
            <Nullable>enable</Nullable>
            <ImplicitUsings>enable</ImplicitUsings>
            <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
          </PropertyGroup>
          <ItemGroup>
            {item}
          </ItemGroup>
          <Import Project="{inRepo}" />
        </Project>
        """;
}
