using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Compose.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Compose.EndToEnd.Tests;

/// <summary>
/// The fault suite against the Native AOT publish of samples/Host, with the fault plugins of tests/FaultPlugins composed in
/// (environment "Faults"): a hanging InitAsync, throwing inits, a crashing background service restarted under load, a
/// throwing handler, and a synchronously blocking ExitAsync at SIGTERM. One process run, so the AOT publish is shared.
/// </summary>
[Trait("Category", "Aot")]
[Collection(EndToEndCollection.Name)]
public sealed partial class AotFaultTests(AotPublishFixture publish, ITestOutputHelper output)
{
    private const string Prefix = "/api/plugins";

    /// <summary>How long the wrk run lasts while the crashing plugin is restarted (bounded; loopback only).</summary>
    private const int WrkSeconds = 20;

    [Fact]
    public async Task NativeHost_Faults_AreIsolated_UnderLoad_AndSigtermIsBounded()
    {
        publish.EnsurePublished();
        using var data = new TempDirectory("aot-faults");
        var clock = Stopwatch.StartNew();
        await using var host = await RunningServer.StartAsync(
            publish.NativeHost,
            [
                "--environment", "Faults",
                $"--Compose:Plugins:llm-proxy:DataDirectory={data.Path}",
                "--Compose:Plugins:fault-hang-init:InitTimeout=00:00:02",
                "--Compose:ExitTimeout=00:00:02",
                "--Compose:RestartDelay=00:00:00.200",
                "--Compose:MaxCrashes=1000", // never fail it: keep it crashing and restarting through the load run
                "--Compose:CrashWindow=00:00:01", // so the back-off stays short
            ],
            publish.PublishDirectory,
            Prefix + "/hello-world/hello");
        await host.DiagnoseAsync(async () =>
        {
            // The hanging plugin held start-up for its 2 s bound only, and is named in one error line.
            output.WriteLine($"First answer {clock.Elapsed.TotalSeconds:F2} s after the start (InitTimeout 2 s).");
            Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(2), $"The host answered after {clock.Elapsed}, before the init bound.");
            Assert.Contains("Plugin 'fault-hang-init' (fault-hang-init) did not finish InitAsync within 00:00:02 and is not serving", host.Process.Output, StringComparison.Ordinal);

            // Every path under a failed plugin's prefix: 503 problem+json naming it, no secret.
            foreach (var path in new[] { "fault-hang-init/status", "fault-throw-early/anything", "fault-throw-early", "fault-throw-late/not/mapped" })
            {
                var result = await host.GetAsync($"{Prefix}/{path}");
                result.AssertStatus(HttpStatusCode.ServiceUnavailable);
                Assert.Equal("application/problem+json", result.MediaType);
                Assert.StartsWith("Server plugin 'fault-", Detail(result), StringComparison.Ordinal);
                Assert.DoesNotContain("hunter2", result.Body, StringComparison.Ordinal);
            }

            // A throwing handler: 500 problem+json naming the plugin, the exception text only in the log.
            var thrown = (await host.GetAsync($"{Prefix}/fault-handlers/async")).AssertStatus(HttpStatusCode.InternalServerError);
            Assert.Equal("application/problem+json", thrown.MediaType);
            Assert.Equal("Server plugin 'fault-handlers' (fault-handlers) failed to process the request.", Detail(thrown));
            Assert.DoesNotContain("hunter2", thrown.Body, StringComparison.Ordinal);
            await WaitForOutputAsync(host, "Unhandled exception in an endpoint of plugin 'fault-handlers' (fault-handlers) for GET /api/plugins/fault-handlers/async; answered 500");

            // The catalog (Production-like environment) shows states, never exception text.
            var catalog = (await host.GetAsync(Prefix)).AssertStatus(HttpStatusCode.OK);
            Assert.DoesNotContain("hunter2", catalog.Body, StringComparison.Ordinal);
            Assert.Contains("failed; see the host log", catalog.Body, StringComparison.Ordinal);

            // Load on another plugin while the crashing plugin's background service crashes and is restarted: no 5xx.
            var restartsBefore = Restarts(host.Process.Output);
            var wrk = await RunWrkAsync(new Uri(host.BaseAddress, Prefix + "/hello-world/hello"));
            var restartsDuring = Restarts(host.Process.Output) - restartsBefore;
            output.WriteLine($"wrk ({WrkSeconds} s) while CrashingService was restarted {restartsDuring} times:{Environment.NewLine}{wrk}");
            Assert.True(restartsDuring >= 2, $"The crashing service was restarted {restartsDuring} time(s) during the load run.");
            Assert.DoesNotContain("Non-2xx or 3xx responses", wrk, StringComparison.Ordinal);
            Assert.DoesNotContain("Socket errors", wrk, StringComparison.Ordinal);
            Assert.Matches(RequestsLine(), wrk);
            Assert.False(host.Process.HasExited, "The host exited while a plugin's hosted service crashed.");
            (await host.GetAsync($"{Prefix}/fault-crashing-service/status")).AssertStatus(HttpStatusCode.OK); // Degraded still serves
            (await host.GetAsync("/health")).AssertStatus(HttpStatusCode.ServiceUnavailable); // Unhealthy: failed plugins

            // SIGTERM: fault-exit-blocks sleeps 60 s before returning its task; its 2 s bound holds.
            var stop = Stopwatch.StartNew();
            host.Process.Terminate();
            var exited = await host.Process.WaitForExitAsync(TimeSpan.FromSeconds(30));
            stop.Stop();
            output.WriteLine($"SIGTERM to exit: {stop.Elapsed.TotalSeconds:F2} s (ExitTimeout 2 s, ExitAsync blocks 60 s).");
            Assert.True(stop.Elapsed < TimeSpan.FromSeconds(10), $"SIGTERM shutdown took {stop.Elapsed}; the exit bound is 2 s.");
            Assert.Contains("Plugin 'fault-exit-blocks' (fault-exit-blocks) did not finish ExitAsync within 00:00:02; shutdown goes on without it", exited.Output, StringComparison.Ordinal);
        });
    }

    private static string? Detail(HttpResult result)
    {
        using var problem = result.Json();
        return problem.RootElement.GetProperty("detail").GetString();
    }

    private static int Restarts(string output) => Regex.Matches(output, "Restarting hosted service CrashingService of plugin 'fault-crashing-service'").Count;

    private static async Task<string> RunWrkAsync(Uri url)
    {
        Assert.True(File.Exists("/usr/bin/wrk") || File.Exists("/usr/local/bin/wrk"), "wrk is not installed (bash .ci/run installs it with apt).");
        var result = await ChildProcess.RunAsync(
            "wrk",
            ["-t1", "-c8", $"-d{WrkSeconds}s", url.ToString()],
            Environment.CurrentDirectory,
            TimeSpan.FromSeconds(WrkSeconds + 30));
        Assert.True(result.ExitCode == 0, result.Describe());
        return result.Output;
    }

    private static async Task WaitForOutputAsync(RunningServer host, string text)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!host.Process.Output.Contains(text, StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, $"No output line with '{text}'.");
            await Task.Delay(50);
        }
    }

    [GeneratedRegex(@"Requests/sec:\s+\d+")]
    private static partial Regex RequestsLine();
}
