using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Compose.Testing.Tests;

/// <summary>The in-process test host: composition, selection, configuration, services, data root, logs, servers, lifetime.</summary>
public sealed class ComposeTestHostTests
{
    private sealed class FixedClock(DateTimeOffset now) : INoteClock
    {
        public DateTimeOffset Now => now;
    }

    [Fact]
    public async Task ByDefault_ComposesEveryPluginTheTestProjectReferencesAndDeclares()
    {
        await using var host = new ComposeTestHost();

        Assert.Equal(["dev-tools", "exploding", "hello-world", "notes"], host.ComposedPluginIds);
        using var client = host.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/plugins/hello-world/hello")).StatusCode);
        Assert.Equal("ok", await client.GetStringAsync("/api/plugins/exploding/ok"));
        Assert.All(host.Catalog, entry => Assert.Equal(ServerPluginState.Running, entry.State));
    }

    [Fact]
    public async Task WithPlugins_SwitchesOnOnlyTheNamedOnes()
    {
        await using var host = new ComposeTestHost().WithPlugins("NOTES"); // ids are configuration keys: case-insensitive
        using var client = host.CreateClient();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/plugins/notes/notes")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/plugins/hello-world/hello")).StatusCode);
        Assert.Equal(ServerPluginState.Running, host.Plugin("notes").State);
        Assert.Equal(ServerPluginState.Disabled, host.Plugin("hello-world").State);
        Assert.Equal(ServerPluginState.Disabled, host.Plugin("exploding").State);
    }

    [Fact]
    public async Task WithPlugins_AnUnknownId_ThrowsNamingWhatIsComposed()
    {
        await using var host = new ComposeTestHost();

        var error = Assert.Throws<ArgumentException>(() => host.WithPlugins("notes", "nope"));

        Assert.Contains("'nope'", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("'notes'", error.Message, StringComparison.Ordinal);
        Assert.Contains("dev-tools, exploding, hello-world, notes", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => host.Plugin("nope"));
    }

    [Fact]
    public async Task PluginSetting_ReachesThePluginsConfigureServices()
    {
        await using var host = new ComposeTestHost().WithPlugins("notes").WithPluginSetting("notes", "MaxNotes", "1");
        using var client = host.CreateClient();

        Assert.Equal(HttpStatusCode.Created, (await client.PostAsync("/api/plugins/notes/notes", new StringContent("first"))).StatusCode);
        var second = await client.PostAsync("/api/plugins/notes/notes", new StringContent("second"));

        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
        Assert.Contains("at most 1 notes", await second.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(1, host.Services.GetRequiredService<NotesSettings>().MaxNotes);
    }

    [Fact]
    public async Task WithSetting_OverridesHostSettings_RoutePrefix()
    {
        await using var host = new ComposeTestHost().WithPlugins("notes").WithSetting("Compose:RoutePrefix", "/ext");
        using var client = host.CreateClient();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/ext/notes/notes")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/plugins/notes/notes")).StatusCode);
        Assert.Equal("/ext", host.Configuration["Compose:RoutePrefix"]);
    }

    [Fact]
    public async Task WithServices_ReplacesADependencyThePluginRegistered()
    {
        var frozen = new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
        await using var host = new ComposeTestHost()
            .WithPlugins("notes")
            .WithServices(services => services.AddSingleton<INoteClock>(new FixedClock(frozen)));
        using var client = host.CreateClient();

        await client.PostAsync("/api/plugins/notes/notes", new StringContent("stamped"));

        Assert.Equal($"{frozen:O} stamped", (await client.GetStringAsync("/api/plugins/notes/notes")).Trim());
        Assert.IsType<FixedClock>(host.Services.GetRequiredService<INoteClock>());
    }

    [Fact]
    public async Task DataRoot_IsATemporaryFolderHoldingEachPluginsDataDirectory_DeletedOnDispose()
    {
        var host = new ComposeTestHost().WithPlugins("notes");
        string file;
        try
        {
            Assert.True(Directory.Exists(host.DataRoot));
            Assert.StartsWith(Path.GetFullPath(Path.GetTempPath()), host.DataRoot, StringComparison.Ordinal);
            using var client = host.CreateClient();
            await client.PostAsync("/api/plugins/notes/notes", new StringContent("kept on disk"));

            file = Path.Combine(host.DataDirectory("notes"), "notes.txt");
            Assert.True(File.Exists(file), $"{file} was not written");
            Assert.Contains("kept on disk", await File.ReadAllTextAsync(file), StringComparison.Ordinal);
            Assert.Equal(host.DataDirectory("notes"), host.Services.GetRequiredKeyedService<IServerPluginContext>("notes").DataDirectory);
            Assert.Equal(host.DataRoot, host.Configuration["Compose:DataRoot"]);
        }
        finally
        {
            await host.DisposeAsync();
        }

        Assert.False(File.Exists(file));
        Assert.False(Directory.Exists(host.DataRoot), $"{host.DataRoot} survived the dispose");
    }

    [Fact]
    public async Task TwoHosts_AreIsolated_DataSettingsAndServices()
    {
        await using var one = new ComposeTestHost().WithPlugins("notes").WithPluginSetting("notes", "MaxNotes", "1");
        await using var two = new ComposeTestHost().WithPlugins("notes");
        using var first = one.CreateClient();
        using var second = two.CreateClient();

        await first.PostAsync("/api/plugins/notes/notes", new StringContent("only in one"));

        Assert.NotEqual(one.DataRoot, two.DataRoot);
        Assert.Contains("only in one", await first.GetStringAsync("/api/plugins/notes/notes"), StringComparison.Ordinal);
        Assert.Equal(string.Empty, await second.GetStringAsync("/api/plugins/notes/notes"));
        Assert.Equal(3, two.Services.GetRequiredService<NotesSettings>().MaxNotes);
        Assert.NotSame(one.Services.GetRequiredService<NotesPlugin>(), two.Services.GetRequiredService<NotesPlugin>());
    }

    [Fact]
    public async Task Logs_CaptureTheRuntimeAndPluginLines_WithLevelCategoryAndSink()
    {
        var sink = new List<string>();
        await using var host = new ComposeTestHost().WithPlugins("notes", "hello-world").WithLogSink(line =>
        {
            lock (sink)
            {
                sink.Add(line);
            }
        });
        using var client = host.CreateClient();
        await client.PostAsync("/api/plugins/notes/notes", new StringContent("x"));

        Assert.True(host.Logs.Contains("Loaded plugin: Notes (notes)"), host.Logs.Tail());
        Assert.Contains("[hello-world] Plugin loaded.", host.Logs.Messages(LogLevel.Information));
        var saved = Assert.Single(host.Logs.Entries, e => e.Message == "Saved note 1");
        Assert.Equal(LogLevel.Information, saved.Level);
        Assert.Equal(typeof(NotesPlugin).FullName, saved.Category);
        Assert.Equal($"info: {typeof(NotesPlugin).FullName}[0] Saved note 1", saved.Line);
        Assert.Equal("notes", saved.Scope["PluginId"]); // the runtime's log scope around a plugin's handlers
        lock (sink)
        {
            Assert.Contains(saved.Line, sink);
        }

        // Below the minimum level (Information by default) nothing is kept.
        Assert.DoesNotContain(host.Logs.Entries, e => e.Level < LogLevel.Information);
    }

    [Fact]
    public async Task Logs_WaitForALineWrittenLater_AndTimeOutWithTheLastLines()
    {
        await using var host = new ComposeTestHost().WithPlugins("notes");
        using var client = host.CreateClient();

        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync("/api/plugins/notes/later", null)).StatusCode);
        var later = await host.Logs.WaitForAsync("A line written later", TimeSpan.FromSeconds(10));
        Assert.Equal(LogLevel.Warning, later.Level);

        var timeout = await Assert.ThrowsAsync<TimeoutException>(() => host.Logs.WaitForAsync("never written", TimeSpan.FromMilliseconds(200)));
        Assert.Contains("Loaded plugin: Notes (notes)", timeout.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dispose_StopsTheHost_RunningExitAsync()
    {
        var host = new ComposeTestHost().WithPlugins("notes");
        await host.StartAsync();
        var logs = host.Logs;

        await host.DisposeAsync();

        Assert.True(logs.Contains("[notes] Exiting."), logs.Tail());
        Assert.False(host.IsStarted);
        Assert.Throws<ObjectDisposedException>(() => host.CreateClient());
        await host.DisposeAsync(); // twice is harmless
    }

    [Fact]
    public async Task Configuring_AfterTheStart_Throws()
    {
        await using var host = new ComposeTestHost().WithPlugins("notes");
        await host.StartAsync();

        Assert.Throws<InvalidOperationException>(() => host.WithSetting("a", "b"));
        Assert.Throws<InvalidOperationException>(() => host.WithPlugins("notes"));
        Assert.Throws<InvalidOperationException>(() => host.UseKestrel());
        Assert.Same(host.StartAsync(), host.StartAsync());
    }

    [Fact]
    public async Task AFailedStart_SurfacesTheRuntimesErrorNamingThePlugin_AndStillCleansUp()
    {
        var host = new ComposeTestHost().WithPluginSetting("exploding", "Explode", "true");

        var error = Assert.Throws<InvalidOperationException>(() => host.CreateClient());
        Assert.Contains("'exploding'", error.Message, StringComparison.Ordinal);
        Assert.Contains("boom from ConfigureServices", error.Message, StringComparison.Ordinal);
        Assert.Same(error, await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync())); // the same start, not a second one

        await host.DisposeAsync();
        Assert.False(Directory.Exists(host.DataRoot));
    }

    [Fact]
    public async Task CatalogAndHealth_AreMappedLikeTheTemplateHost_UnlessLeftOut()
    {
        await using (var host = new ComposeTestHost().WithPlugins("notes"))
        {
            using var client = host.CreateClient();
            Assert.Equal("Healthy", await client.GetStringAsync("/health"));
            using var catalog = JsonDocument.Parse(await client.GetStringAsync("/api/plugins"));
            var notes = catalog.RootElement.GetProperty("plugins").EnumerateArray().Single(p => p.GetProperty("id").GetString() == "notes");
            Assert.Equal("Running", notes.GetProperty("state").GetString());
        }

        await using (var bare = new ComposeTestHost().WithPlugins("notes").WithoutCatalogAndHealth())
        {
            using var client = bare.CreateClient();
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/health")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/plugins")).StatusCode);
        }
    }

    [Fact]
    public async Task Environment_IsDevelopmentByDefault_AndScopesPlugins()
    {
        await using (var development = new ComposeTestHost())
        {
            using var client = development.CreateClient();
            Assert.Equal("Development", await client.GetStringAsync("/api/plugins/dev-tools/env"));
        }

        await using var production = new ComposeTestHost().WithEnvironment("Production");
        Assert.Equal(ServerPluginState.Disabled, production.Plugin("dev-tools").State);
    }

    [Fact]
    public async Task TestServer_IsTheDefault_Kestrel_ListensOn127001()
    {
        await using (var inMemory = new ComposeTestHost().WithPlugins("hello-world"))
        {
            Assert.NotNull(inMemory.Server);
            Assert.Equal(new Uri("http://localhost/"), inMemory.BaseAddress);
        }

        await using var kestrel = new ComposeTestHost().WithPlugins("hello-world").UseKestrel();
        await kestrel.StartAsync();
        Assert.Null(kestrel.Server);
        Assert.Equal("127.0.0.1", kestrel.BaseAddress.Host);
        Assert.NotEqual(0, kestrel.BaseAddress.Port);

        // A client that is not the host's: a real socket.
        using var own = new HttpClient();
        using var response = await own.GetAsync(new Uri(kestrel.BaseAddress, "api/plugins/hello-world/hello"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Hello from server plugin!", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hooks_RunInOrder_BuilderOptionsAppAndPluginRouteConventions()
    {
        await using var host = new ComposeTestHost()
            .WithPlugins("notes")
            .ConfigureBuilder(builder => builder.Configuration["Marker"] = "from builder")
            .WithOptions(options => options.RoutePrefix = "/opts")
            .ConfigureApp(app => app.Use(async (context, next) =>
            {
                context.Response.Headers["X-Test-Middleware"] = "yes";
                await next(context);
            }))
            .ConfigurePluginRoutes(group => group.AddEndpointFilter(async (context, next) =>
            {
                context.HttpContext.Response.Headers["X-Plugin-Filter"] = "yes";
                return await next(context);
            }));
        using var client = host.CreateClient();

        using var response = await client.GetAsync("/opts/notes/notes");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("yes", response.Headers.GetValues("X-Test-Middleware").Single());
        Assert.Equal("yes", response.Headers.GetValues("X-Plugin-Filter").Single());
        Assert.Equal("from builder", host.Configuration["Marker"]);
    }

    [Fact]
    public async Task ComposeTestServer_WithoutTheNativeVariable_StartsAnInProcessHostWithTheSettings()
    {
        Assert.False(ComposeTestServer.IsNative, $"{ComposeTestServer.NativeHostVariable} is set in this test run");
        await using var server = await ComposeTestServer.StartAsync(
            new Dictionary<string, string?> { ["Compose:Plugins:notes:MaxNotes"] = "0" },
            host => host.WithPlugins("notes"));
        using var client = server.CreateClient();

        Assert.IsType<ComposeTestHost>(server);
        Assert.Equal(HttpStatusCode.Conflict, (await client.PostAsync("/api/plugins/notes/notes", new StringContent("x", Encoding.UTF8))).StatusCode);
        Assert.True(server.Logs.Contains("Loaded plugin: Notes (notes)"));
    }
}
