using System.Diagnostics;
using System.Reflection;
using Compose.EndToEnd.Tests.Infrastructure;

namespace Compose.Gateway.Tests;

/// <summary>
/// Sample hosts and the sample gateway as real processes on 127.0.0.1, started from their build output (the project
/// references build them in this test project's configuration); every process is killed on dispose.
/// </summary>
public sealed class Topology : IAsyncDisposable
{
    /// <summary>The API key every host of these tests requires on its plugin routes and its catalog.</summary>
    public const string ApiKey = "gateway-tests-key-3f9c";

    private static readonly string Configuration =
        typeof(Topology).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "Configuration").Value!;

    private readonly List<RunningServer> _servers = [];
    private readonly List<TempDirectory> _directories = [];

    public static string HostDirectory => Path.Combine(RepoPaths.Root, "samples", "Host");

    public static string HostDll => Path.Combine(HostDirectory, "bin", Configuration, "net10.0", "Compose.Samples.Host.dll");

    public static string GatewayDirectory => Path.Combine(RepoPaths.Root, "samples", "Gateway");

    public static string GatewayDll => Path.Combine(GatewayDirectory, "bin", Configuration, "net10.0", "Compose.Samples.Gateway.dll");

    /// <summary>
    /// Starts the sample host with every plugin but <paramref name="plugins"/> switched off, the API key required, and
    /// request logging on (each replica's log shows the requests it served).
    /// </summary>
    public async Task<RunningServer> StartHostAsync(string[] plugins, string? contentRoot = null)
    {
        var environment = new Dictionary<string, string>
        {
            ["Auth__ApiKey"] = ApiKey,
            ["Logging__LogLevel__Microsoft.AspNetCore.Hosting.Diagnostics"] = "Information",
        };
        foreach (var id in new[] { "hello-world", "ticker", "llm-proxy" }.Except(plugins))
        {
            environment[$"Compose__Plugins__{id}__Enabled"] = "false";
        }

        string[] arguments = contentRoot is null ? [HostDll] : [HostDll, "--contentRoot", contentRoot];
        return Track(await RunningServer.StartAsync(DotNet.Executable, arguments, HostDirectory, "/health", environment));
    }

    /// <summary>Starts the sample gateway in front of <paramref name="hosts"/> (name, replicas), refreshing every second.</summary>
    /// <param name="hosts">Hosts by name, with their replicas (set by environment variables).</param>
    /// <param name="settings">More environment variables.</param>
    /// <param name="contentRoot">The gateway's content root (its appsettings.json, reloaded on change); default: an empty folder.</param>
    public async Task<RunningServer> StartGatewayAsync(IReadOnlyDictionary<string, RunningServer[]> hosts, IReadOnlyDictionary<string, string>? settings = null, string? contentRoot = null)
    {
        var environment = new Dictionary<string, string>
        {
            ["Compose__Gateway__RefreshInterval"] = "00:00:01",
            ["Compose__Gateway__HealthCheck__Interval"] = "00:00:01",
            ["Compose__Gateway__HealthCheck__Timeout"] = "00:00:01",
            ["Compose__Gateway__CatalogCredential__Header"] = "X-Api-Key",
            ["Compose__Gateway__CatalogCredential__Value"] = ApiKey,
        };
        foreach (var (name, replicas) in hosts)
        {
            for (var i = 0; i < replicas.Length; i++)
            {
                environment[$"Compose__Gateway__Hosts__{name}__Addresses__{i}"] = replicas[i].BaseAddress.ToString().TrimEnd('/');
            }
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        // The sample's appsettings.json names hosts on fixed ports; a content root without it keeps them out.
        contentRoot ??= NewDirectory("gateway");
        return Track(await RunningServer.StartAsync(DotNet.Executable, [GatewayDll, "--contentRoot", contentRoot], GatewayDirectory, "/health", environment));
    }

    /// <summary>Polls <paramref name="condition"/> every 100 ms until it holds; fails with <paramref name="what"/> after <paramref name="timeout"/>.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < timeout, $"Not within {timeout.TotalSeconds:0}s: {what}");
            await Task.Delay(100);
        }
    }

    /// <summary>A fresh folder, deleted on dispose.</summary>
    public string NewDirectory(string purpose)
    {
        var directory = new TempDirectory(purpose);
        _directories.Add(directory);
        return directory.Path;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }

        foreach (var directory in _directories)
        {
            directory.Dispose();
        }
    }

    private RunningServer Track(RunningServer server)
    {
        _servers.Add(server);
        return server;
    }
}
