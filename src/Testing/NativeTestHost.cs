using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Compose.Testing;

/// <summary>How a <see cref="NativeTestHost"/> is started.</summary>
public sealed class NativeTestHostOptions
{
    /// <summary>
    /// Gets configuration values passed on the command line as <c>--key=value</c> (above <c>appsettings.json</c> and
    /// environment variables, for a host that passes <c>args</c> to its builder, as the templates do).
    /// </summary>
    public IDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Gets environment variables set for the process (a <see langword="null"/> value removes one).</summary>
    public IDictionary<string, string?> Environment { get; } = new Dictionary<string, string?>(StringComparer.Ordinal);

    /// <summary>Gets or sets the path polled until it answers 2xx before the host counts as started. Default <c>/health</c>.</summary>
    public string ReadinessPath { get; set; } = ComposeTestHost.HealthPath;

    /// <summary>Gets or sets how long the host may take to answer <see cref="ReadinessPath"/>. Default 30 seconds.</summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how long the process may take to stop after SIGTERM before it is killed. Default 10 seconds.</summary>
    public TimeSpan StopTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets the environment name (<c>ASPNETCORE_ENVIRONMENT</c>). Default <c>Production</c>, as a published host runs.</summary>
    public string EnvironmentName { get; set; } = "Production";
}

/// <summary>
/// A published host running as a child process on <c>http://127.0.0.1:{free port}</c>, its console output captured
/// as <see cref="Logs"/>, stopped by its process id on dispose (SIGTERM so plugins' <c>ExitAsync</c> run, then a
/// kill). Its <c>Compose:DataRoot</c> is a temporary folder deleted on dispose.
/// </summary>
public sealed class NativeTestHost : IComposeTestServer
{
    private readonly ChildProcess _process;
    private readonly TimeSpan _stopTimeout;
    private readonly List<HttpClient> _clients = [];
    private int _disposed;
    private int? _exitCode;

    private NativeTestHost(ChildProcess process, Uri baseAddress, string dataRoot, ComposeTestLogs logs, TimeSpan stopTimeout)
    {
        _process = process;
        BaseAddress = baseAddress;
        DataRoot = dataRoot;
        Logs = logs;
        _stopTimeout = stopTimeout;
    }

    /// <inheritdoc/>
    public Uri BaseAddress { get; }

    /// <summary>Gets the process's standard output and error, each line parsed as a console-logger line where it is one.</summary>
    public ComposeTestLogs Logs { get; }

    /// <summary>Gets the process id.</summary>
    public int ProcessId => _process.Id;

    /// <summary>Gets whether the process has exited (always, once disposed).</summary>
    public bool HasExited => _exitCode is not null || _process.HasExited;

    /// <summary>Gets the process's exit code once it has exited and the host was disposed; otherwise <see langword="null"/>.</summary>
    public int? ExitCode => _exitCode;

    /// <summary>Gets the temporary folder passed as <c>Compose:DataRoot</c>; deleted on dispose.</summary>
    public string DataRoot { get; }

    /// <summary>Gets the command line that started the process.</summary>
    public string CommandLine => _process.CommandLine;

    /// <inheritdoc/>
    public HttpClient CreateClient()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        lock (_clients)
        {
            _clients.Add(client);
        }

        return client;
    }

    /// <summary>Stops the process (SIGTERM, then a kill after <see cref="NativeTestHostOptions.StopTimeout"/>), disposes the clients and deletes <see cref="DataRoot"/>.</summary>
    /// <returns>A task that completes when the process has exited.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        lock (_clients)
        {
            foreach (var client in _clients)
            {
                client.Dispose();
            }
        }

        await _process.StopAsync(_stopTimeout).ConfigureAwait(false);
        _exitCode = _process.HasExited ? _process.ExitCode : -1;
        _process.Dispose();
        TemporaryFolder.Delete(DataRoot);
    }

    internal static async Task<NativeTestHost> StartAsync(NativeAotPublish publish, NativeTestHostOptions options, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(options.ReadinessPath);
        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort();
            var dataRoot = TemporaryFolder.Create("compose-native");
            var logs = new ComposeTestLogs();
            var arguments = new List<string>
            {
                $"--urls=http://127.0.0.1:{port}",
                $"--Compose:DataRoot={dataRoot}",
                "--Logging:Console:FormatterName=simple",
                "--Logging:Console:FormatterOptions:SingleLine=true",
            };
            arguments.AddRange(options.Settings.Select(s => $"--{s.Key}={s.Value}"));
            var environment = new Dictionary<string, string?>(options.Environment, StringComparer.Ordinal)
            {
                ["ASPNETCORE_ENVIRONMENT"] = options.EnvironmentName,
            };
            var process = ChildProcess.Start(publish.Executable, arguments, publish.Directory, environment, logs.AddOutputLine);
            var host = new NativeTestHost(process, new Uri($"http://127.0.0.1:{port}/"), dataRoot, logs, options.StopTimeout);
            try
            {
                await host.WaitUntilReadyAsync(options.ReadinessPath, options.StartTimeout, cancellationToken).ConfigureAwait(false);
                return host;
            }
            catch (InvalidOperationException) when (attempt < 3 && logs.Contains("address already in use"))
            {
                // Another process took the port between the probe and the start: try another.
                await host.DisposeAsync().ConfigureAwait(false);
            }
            catch
            {
                await host.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
    }

    private async Task WaitUntilReadyAsync(string path, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var stopwatch = Stopwatch.StartNew();
        string last = "no answer";
        while (stopwatch.Elapsed < timeout)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"`{CommandLine}` exited with code {_process.ExitCode} before it answered {path}. Its output:{Environment.NewLine}{Logs.Tail(200)}");
            }

            try
            {
                using var response = await client.GetAsync(path.TrimStart('/'), cancellationToken).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }

                last = $"{(int)response.StatusCode} {response.StatusCode}";
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                last = ex.Message;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken).ConfigureAwait(false);
        }

        throw new TimeoutException($"`{CommandLine}` did not answer {path} with 2xx within {timeout.TotalSeconds:0} s (last: {last}). Its output:{Environment.NewLine}{Logs.Tail(200)}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
