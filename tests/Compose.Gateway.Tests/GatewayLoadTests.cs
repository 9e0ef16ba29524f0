using System.Globalization;
using System.Text.RegularExpressions;
using Compose.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Compose.Gateway.Tests;

/// <summary>
/// A bounded wrk run through the gateway (20 s, loopback only) must see 0 errors; the same route called on the host
/// directly gives the comparison the docs record (docs/gateway.md). Figures are printed, never asserted.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed partial class GatewayLoadTests(ITestOutputHelper output)
{
    private const int GatewaySeconds = 20;
    private const int DirectSeconds = 10;

    [Fact]
    public async Task TwentySecondsOfLoadThroughTheGatewayHaveNoErrors()
    {
        await using var topology = new Topology();
        var web = await topology.StartHostAsync(["hello-world"]);
        var gateway = await topology.StartGatewayAsync(
            new Dictionary<string, RunningServer[]> { ["web"] = [web] },
            new Dictionary<string, string> { ["Logging__LogLevel__Default"] = "Warning" });
        await GatewayTests.WaitForRoutesAsync(gateway, "hello-world");

        const string Path = "/api/plugins/hello-world/hello";
        var direct = await RunWrkAsync(new Uri(web.BaseAddress, Path), DirectSeconds);
        var proxied = await RunWrkAsync(new Uri(gateway.BaseAddress, Path), GatewaySeconds);
        output.WriteLine($"Direct ({DirectSeconds} s):{Environment.NewLine}{direct}");
        output.WriteLine($"Through the gateway ({GatewaySeconds} s):{Environment.NewLine}{proxied}");
        output.WriteLine($"Summary: direct {Rate(direct):0} req/s, p99 {P99(direct)}; gateway {Rate(proxied):0} req/s, p99 {P99(proxied)}");

        Assert.DoesNotContain("Non-2xx or 3xx responses", proxied, StringComparison.Ordinal);
        Assert.DoesNotContain("Socket errors", proxied, StringComparison.Ordinal);
        Assert.True(Rate(proxied) > 0, proxied);
    }

    private static async Task<string> RunWrkAsync(Uri url, int seconds)
    {
        Assert.True(File.Exists("/usr/bin/wrk") || File.Exists("/usr/local/bin/wrk"), "wrk is not installed (bash .ci/run installs it with apt).");
        var result = await ChildProcess.RunAsync(
            "wrk",
            ["-t2", "-c16", $"-d{seconds}s", "--latency", "-H", $"X-Api-Key: {Topology.ApiKey}", url.ToString()],
            Directory.GetCurrentDirectory(),
            TimeSpan.FromSeconds(seconds + 30));
        Assert.True(result.ExitCode == 0, result.Describe());
        return result.Output;
    }

    private static double Rate(string wrk) => double.Parse(RequestsLine().Match(wrk).Groups[1].Value, CultureInfo.InvariantCulture);

    private static string P99(string wrk) => P99Line().Match(wrk).Groups[1].Value;

    [GeneratedRegex(@"Requests/sec:\s+([0-9.]+)")]
    private static partial Regex RequestsLine();

    [GeneratedRegex(@"99%\s+(\S+)")]
    private static partial Regex P99Line();
}
