using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Compose.Store.Tests;

/// <summary>
/// A throw-away PostgreSQL cluster for the tests: <c>initdb</c> into a temporary directory (as the <c>postgres</c>
/// system user when the tests run as root, since initdb refuses root), <c>pg_ctl</c> on a free 127.0.0.1 port, stopped
/// and deleted on dispose. No mock: every PostgreSQL test talks to this server.
/// </summary>
public sealed class PostgresCluster : IAsyncLifetime
{
    private string _bin = "";
    private string _root = "";
    private bool _asPostgresUser;

    /// <summary>Gets or sets whether the server syncs to disk (<c>fsync</c>); default off, for test speed. The benchmark turns it on.</summary>
    public bool Durable { get; init; }

    /// <summary>Gets the port the server listens on (127.0.0.1 only).</summary>
    public int Port { get; private set; }

    /// <summary>Gets the data directory.</summary>
    public string DataDirectory => Path.Combine(_root, "data");

    /// <summary>Gets a connection string to database <c>postgres</c> as superuser <c>postgres</c> (trust authentication, loopback only).</summary>
    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Timeout=3";

    /// <summary>Gets the path of <c>psql</c>.</summary>
    public string Psql => Path.Combine(_bin, "psql");

    public async Task InitializeAsync()
    {
        _bin = FindBin() ?? throw new InvalidOperationException(
            "PostgreSQL binaries (initdb, pg_ctl) were not found in /usr/lib/postgresql/*/bin or on PATH; install the Debian 'postgresql' package (.ci/run does).");
        _asPostgresUser = Environment.UserName == "root";
        _root = Directory.CreateTempSubdirectory("compose-pg-").FullName;
        if (_asPostgresUser)
        {
            await RunAsync("chown", ["postgres", _root]);
        }

        await RunPgAsync("initdb", ["-D", DataDirectory, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"]);
        Port = FreePort();
        await StartAsync();
    }

    /// <summary>Starts the server (again) on the same port and data directory.</summary>
    public Task StartAsync() => RunPgAsync("pg_ctl", ["-D", DataDirectory, "-w", "-t", "30", "-l", Path.Combine(_root, "server.log"),
        "-o", $"-c listen_addresses=127.0.0.1 -p {Port} -c unix_socket_directories={_root} -c fsync={(Durable ? "on" : "off")} -c max_connections=200", "start"]);

    /// <summary>Stops the server (fast mode: open sessions are ended).</summary>
    public Task StopAsync() => RunPgAsync("pg_ctl", ["-D", DataDirectory, "-w", "-t", "30", "-m", "fast", "stop"]);

    public async Task DisposeAsync()
    {
        if (_root.Length == 0)
        {
            return;
        }

        try
        {
            await RunPgAsync("pg_ctl", ["-D", DataDirectory, "-w", "-t", "30", "-m", "immediate", "stop"]);
        }
        catch (InvalidOperationException)
        {
            // Not running (a test stopped it, or start failed).
        }

        Directory.Delete(_root, recursive: true);
    }

    private static string? FindBin()
    {
        if (Directory.Exists("/usr/lib/postgresql"))
        {
            foreach (var version in Directory.GetDirectories("/usr/lib/postgresql").OrderByDescending(d => d, StringComparer.Ordinal))
            {
                if (File.Exists(Path.Combine(version, "bin", "initdb")))
                {
                    return Path.Combine(version, "bin");
                }
            }
        }

        return (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
            .FirstOrDefault(dir => dir.Length > 0 && File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl")));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private Task RunPgAsync(string tool, string[] arguments)
        => _asPostgresUser
            ? RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(_bin, tool), .. arguments])
            : RunAsync(Path.Combine(_bin, tool), arguments);

    private static async Task RunAsync(string file, string[] arguments)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = "/" };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited {process.ExitCode}: {await stderr}{await stdout}");
        }
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresCluster>
{
    public const string Name = "PostgreSQL";
}
