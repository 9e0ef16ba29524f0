using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Reflection;
using System.Reflection.Metadata;

namespace Compose.Integration.Tests;

/// <summary>
/// A plugin whose "code" is a static version number, so a test can stand for an edit applied by hot reload: version 2
/// maps a new route in InitAsync, version 3 throws from InitAsync, version 4 never finishes its asynchronous part.
/// </summary>
[ServerPlugin("code-update", Name = "Code update")]
public sealed class CodeUpdatePlugin : IServerPlugin
{
    private static int s_created;

    public CodeUpdatePlugin()
    {
        Number = Interlocked.Increment(ref s_created);
        Journal.Enqueue($"new {Number}");
    }

    public static int Version { get; set; } = 1;

    public static ConcurrentQueue<string> Journal { get; } = new();

    public int Number { get; }

    public static void Reset()
    {
        Version = 1;
        Journal.Clear();
        s_created = 0;
    }

    public async Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
    {
        var version = Version;
        Journal.Enqueue($"init {Number} v{version}");
        router.MapGet("/hello", () => $"hello v{version} from {Number}");
        if (version >= 2)
        {
            router.MapGet("/bye", () => $"bye from {Number}");
        }

        if (version == 3)
        {
            throw new InvalidOperationException("the edited InitAsync is broken");
        }

        if (version == 4)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        await Task.Yield();
    }

    public Task ExitAsync(CancellationToken cancellationToken)
    {
        Journal.Enqueue($"exit {Number}");
        return Task.CompletedTask;
    }
}

/// <summary>
/// Hot reload through the runtime's <see cref="MetadataUpdateHandlerAttribute"/>, called the way the hot reload agent
/// calls it after applying an update; the real <c>dotnet watch</c> run is in the end-to-end tests.
/// </summary>
public sealed class HotReloadTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    public HotReloadTests()
    {
        // Hosts are tracked only while the runtime can apply updates; the handler's test switch stands for that here.
        AppContext.SetSwitch("Compose.Hosting.PluginHotReload.TrackForTests", true);
        CodeUpdatePlugin.Reset();
    }

    public void Dispose() => CodeUpdatePlugin.Reset();

    [Fact]
    public async Task AnUpdateAddingARouteIsServed_TheOldRouteStill_AfterTheOldInstanceExited()
    {
        await using var host = await PluginHost.StartAsync(["code-update", "hello-world"]);
        Assert.Equal("hello v1 from 1", await host.Client.GetStringAsync("/api/plugins/code-update/hello"));
        Assert.Equal(HttpStatusCode.NotFound, (await host.Client.GetAsync("/api/plugins/code-update/bye")).StatusCode);

        CodeUpdatePlugin.Version = 2;
        ApplyUpdate(typeof(CodeUpdatePlugin));

        await AssertAnswersAsync(host, "/api/plugins/code-update/bye", "bye from 2");
        Assert.Equal("hello v2 from 2", await host.Client.GetStringAsync("/api/plugins/code-update/hello"));
        Assert.Equal(["new 1", "init 1 v1", "exit 1", "new 2", "init 2 v2"], CodeUpdatePlugin.Journal);
        Assert.Equal(ServerPluginState.Running, host.Catalog.Find("code-update")!.State);
        Assert.Equal(2, host.Catalog.Find("code-update")!.RouteCount);
        Assert.Contains(host.Logs.Messages(Microsoft.Extensions.Logging.LogLevel.Information), m => m.StartsWith("Code of plugin 'code-update' (Code update) was updated (hot reload)", StringComparison.Ordinal));

        // A plugin of another assembly is untouched: the sample plugin keeps serving, not initialised again.
        Assert.Equal(1, host.Logs.Messages(Microsoft.Extensions.Logging.LogLevel.Information).Count(m => m == "Loaded plugin: Hello World (hello-world)"));
    }

    [Fact]
    public async Task AnUpdateOfAnotherAssemblyTouchesNoPlugin_AndUnknownTypesTouchEvery()
    {
        await using var host = await PluginHost.StartAsync(["code-update"]);

        ApplyUpdate(typeof(Uri));
        ApplyUpdate(null); // the runtime's "anything may have changed"
        await AssertAnswersAsync(host, "/api/plugins/code-update/hello", "hello v1 from 2");

        // Updates run one at a time, in order: by now the first one was handled, and initialised nothing.
        Assert.Equal(["new 1", "init 1 v1", "exit 1", "new 2", "init 2 v1"], CodeUpdatePlugin.Journal);
    }

    [Fact]
    public async Task ABrokenEditFailsOnlyThatPlugin_503_AndTheFixServesAgain()
    {
        await using var host = await PluginHost.StartAsync(["code-update", "probe"]);

        CodeUpdatePlugin.Version = 3;
        ApplyUpdate(typeof(CodeUpdatePlugin));
        await AssertStatusAsync(host, "/api/plugins/code-update/hello", HttpStatusCode.ServiceUnavailable);
        await AssertStatusAsync(host, "/api/plugins/code-update/never-mapped", HttpStatusCode.ServiceUnavailable); // the catch-all of a failed plugin
        Assert.Equal(ServerPluginState.Failed, host.Catalog.Find("code-update")!.State);
        Assert.Contains(host.Logs.Messages(Microsoft.Extensions.Logging.LogLevel.Error), m => m.Contains("the edited InitAsync is broken", StringComparison.Ordinal));

        CodeUpdatePlugin.Version = 2;
        ApplyUpdate(typeof(CodeUpdatePlugin));
        await AssertAnswersAsync(host, "/api/plugins/code-update/bye", "bye from 3");
        Assert.Equal(ServerPluginState.Running, host.Catalog.Find("code-update")!.State);
        await AssertStatusAsync(host, "/api/plugins/code-update/never-mapped", HttpStatusCode.NotFound); // the new group has no catch-all

        // The failed instance never initialised, so it is not exited; the others were.
        Assert.Equal(["new 1", "init 1 v1", "exit 1", "new 2", "init 2 v3", "new 3", "init 3 v2"], CodeUpdatePlugin.Journal);
    }

    [Fact]
    public async Task ConcurrentUpdatesWhileRequestsArrive_EveryRequestIsAnswered_OneInstanceServesAtTheEnd()
    {
        await using var host = await PluginHost.StartAsync(["code-update"]);
        CodeUpdatePlugin.Version = 2;

        using var stop = new CancellationTokenSource();
        var statuses = new ConcurrentBag<HttpStatusCode>();
        var load = Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            var deadline = Stopwatch.StartNew();
            while (!stop.IsCancellationRequested && deadline.Elapsed < Bound)
            {
                using var response = await host.Client.GetAsync("/api/plugins/code-update/hello");
                statuses.Add(response.StatusCode);
            }
        })));

        await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => Task.Run(() => ApplyUpdate(typeof(CodeUpdatePlugin)))));
        await AssertAnswersAsync(host, "/api/plugins/code-update/hello", "hello v2 from 6");
        await stop.CancelAsync();
        await load;

        Assert.NotEmpty(statuses);
        Assert.All(statuses, status => Assert.Equal(HttpStatusCode.OK, status));
        var journal = CodeUpdatePlugin.Journal.ToArray();
        Assert.Equal(6, journal.Count(e => e.StartsWith("init ", StringComparison.Ordinal)));
        Assert.Equal(5, journal.Count(e => e.StartsWith("exit ", StringComparison.Ordinal)));

        // One at a time: each instance exits before the next is created.
        for (var n = 1; n <= 5; n++)
        {
            Assert.True(Array.IndexOf(journal, $"exit {n}") < Array.IndexOf(journal, $"new {n + 1}"), string.Join(", ", journal));
        }
    }

    [Fact]
    public async Task StoppingWhileAnUpdateInitialises_IsBounded_AndAStoppedHostIgnoresUpdates()
    {
        var host = await PluginHost.StartAsync(["code-update"]);
        CodeUpdatePlugin.Version = 4; // InitAsync waits for its token
        ApplyUpdate(typeof(CodeUpdatePlugin));
        await WaitForAsync(() => CodeUpdatePlugin.Journal.Contains("init 2 v4"));

        var stopping = Stopwatch.StartNew();
        await host.DisposeAsync();
        Assert.True(stopping.Elapsed < Bound, $"Stopping took {stopping.Elapsed}.");

        CodeUpdatePlugin.Version = 1;
        ApplyUpdate(typeof(CodeUpdatePlugin));
        await Task.Delay(200);
        Assert.Equal(["new 1", "init 1 v1", "exit 1", "new 2", "init 2 v4"], CodeUpdatePlugin.Journal);
    }

    /// <summary>Calls the runtime's update handler as the hot reload agent does: found through the assembly attribute.</summary>
    private static void ApplyUpdate(params Type[]? updatedTypes)
    {
        var handler = typeof(ComposeOptions).Assembly.GetCustomAttributes<MetadataUpdateHandlerAttribute>().Single().HandlerType;
        var method = handler.GetMethod("UpdateApplication", BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic, [typeof(Type[])])
            ?? throw new InvalidOperationException($"{handler} has no UpdateApplication(Type[]).");
        method.Invoke(null, [updatedTypes]);
    }

    private static Task AssertAnswersAsync(PluginHost host, string path, string body)
        => WaitForAsync(async () =>
        {
            using var response = await host.Client.GetAsync(path);
            return response.StatusCode == HttpStatusCode.OK && await response.Content.ReadAsStringAsync() == body;
        });

    private static Task AssertStatusAsync(PluginHost host, string path, HttpStatusCode status)
        => WaitForAsync(async () =>
        {
            using var response = await host.Client.GetAsync(path);
            return response.StatusCode == status;
        });

    private static Task WaitForAsync(Func<bool> condition) => WaitForAsync(() => Task.FromResult(condition()));

    private static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(deadline.Elapsed < Bound, $"Not within {Bound}. Journal: {string.Join(", ", CodeUpdatePlugin.Journal)}");
            await Task.Delay(20);
        }
    }
}
