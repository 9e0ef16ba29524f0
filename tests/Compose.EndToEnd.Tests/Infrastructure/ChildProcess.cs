using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Compose.EndToEnd.Tests.Infrastructure;

/// <summary>The outcome of a process that ran to completion.</summary>
/// <param name="CommandLine">What was run.</param>
/// <param name="ExitCode">The exit code.</param>
/// <param name="Output">Standard output and standard error, interleaved in the order the lines arrived.</param>
/// <param name="Duration">How long the process ran.</param>
public sealed record ProcessResult(string CommandLine, int ExitCode, string Output, TimeSpan Duration)
{
    /// <summary>A description for assertion messages: the command, its exit code and its output (the tail, when long).</summary>
    public string Describe() => ChildProcess.Describe(CommandLine, $"exited with code {ExitCode} after {Duration.TotalSeconds:F0}s", Output);
}

/// <summary>
/// A real child process whose standard output and error are captured: started, waited for (with a deadline), polled
/// over HTTP until it answers, and killed with its whole process tree on dispose.
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private const int MaxOutputInMessages = 30_000;

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly Lock _outputLock = new();
    private readonly Stopwatch _stopwatch;

    private ChildProcess(Process process, string commandLine)
    {
        _process = process;
        CommandLine = commandLine;
        _stopwatch = Stopwatch.StartNew();
    }

    public string CommandLine { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Gets what the process wrote so far, standard output and error interleaved.</summary>
    public string Output
    {
        get
        {
            lock (_outputLock)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts <paramref name="fileName"/> with <paramref name="arguments"/>, output captured, in <paramref name="workingDirectory"/>.</summary>
    public static ChildProcess Start(string fileName, IEnumerable<string> arguments, string workingDirectory, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        PrepareEnvironment(info.Environment);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var commandLine = string.Join(' ', new[] { fileName }.Concat(info.ArgumentList.Select(Quote)));
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var child = new ChildProcess(process, commandLine);
        process.OutputDataReceived += (_, e) => child.Append(e.Data);
        process.ErrorDataReceived += (_, e) => child.Append(e.Data);
        if (!process.Start())
        {
            throw new InvalidOperationException($"Could not start {commandLine}");
        }

        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Runs a process to completion; on timeout its process tree is killed and a <see cref="TimeoutException"/> carries its output.</summary>
    public static async Task<ProcessResult> RunAsync(string fileName, IEnumerable<string> arguments, string workingDirectory, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        await using var child = Start(fileName, arguments, workingDirectory, environment);
        return await child.WaitForExitAsync(timeout);
    }

    /// <summary>Waits for the process to exit and its output to be read; kills the tree and throws when <paramref name="timeout"/> passes first.</summary>
    public async Task<ProcessResult> WaitForExitAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
            throw new TimeoutException(Describe(CommandLine, $"did not exit within {timeout.TotalSeconds:F0}s and was killed", Output));
        }

        return new ProcessResult(CommandLine, _process.ExitCode, Output, _stopwatch.Elapsed);
    }

    /// <summary>
    /// Polls <paramref name="url"/> until the server answers with any HTTP status. Fails with the process output when the
    /// process exits first or <paramref name="timeout"/> passes.
    /// </summary>
    public async Task WaitForHttpAsync(HttpClient client, Uri url, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        Exception? last = null;
        while (deadline.Elapsed < timeout)
        {
            if (HasExited)
            {
                throw new InvalidOperationException(Describe(CommandLine, $"exited with code {_process.ExitCode} before answering {url}", Output));
            }

            try
            {
                using var attempt = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                using var response = await client.GetAsync(url, attempt.Token);
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
            {
                last = ex;
            }

            await Task.Delay(100);
        }

        Kill();
        throw new TimeoutException(Describe(CommandLine, $"did not answer {url} within {timeout.TotalSeconds:F0}s ({last?.Message})", Output));
    }

    /// <summary>Sends SIGTERM (what a container runtime or systemd sends to stop a service); Unix only.</summary>
    public void Terminate()
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
        kill.WaitForExit();
    }

    /// <summary>Kills the process and every process it started; does nothing when it already exited.</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Exited between the check and the kill.
        }
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        try
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await _process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            // Nothing more can be done; the process is reported by the test that started it.
        }
        catch (InvalidOperationException)
        {
            // Never started.
        }

        _process.Dispose();
    }

    /// <summary>A port that was free on 127.0.0.1 a moment ago.</summary>
    public static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    internal static string Describe(string commandLine, string what, string output)
    {
        var shown = output.Length <= MaxOutputInMessages
            ? output
            : $"[first {output.Length - MaxOutputInMessages} characters left out]{Environment.NewLine}{output[^MaxOutputInMessages..]}";
        return $"`{commandLine}` {what}.{Environment.NewLine}--- output ---{Environment.NewLine}{shown}{Environment.NewLine}--- end of output ---";
    }

    /// <summary>
    /// No telemetry or banners; no MSBuild node reuse or build server, whose long-lived processes would keep the output
    /// pipes open (and outlive the test); no inherited MSBuild or ASP.NET Core URL settings from the test runner.
    /// </summary>
    private static void PrepareEnvironment(IDictionary<string, string?> environment)
    {
        foreach (var key in environment.Keys.ToList())
        {
            if (key.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)
                || key.StartsWith("_MSBuild", StringComparison.OrdinalIgnoreCase)
                || key.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)
                || key is "ASPNETCORE_URLS" or "ASPNETCORE_HTTP_PORTS" or "ASPNETCORE_HTTPS_PORTS" or "DOTNET_URLS" or "ASPNETCORE_ENVIRONMENT" or "DOTNET_ENVIRONMENT")
            {
                environment.Remove(key);
            }
        }

        environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        environment["DOTNET_NOLOGO"] = "1";
        environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        environment["DOTNET_CLI_WORKLOAD_UPDATE_NOTIFY_DISABLE"] = "1";
        environment["MSBUILDDISABLENODEREUSE"] = "1";
        environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        environment["UseSharedCompilation"] = "false";
    }

    private static string Quote(string argument) => argument.Length > 0 && !argument.Any(char.IsWhiteSpace) && !argument.Contains('"')
        ? argument
        : "\"" + argument.Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_outputLock)
        {
            _output.AppendLine(line);
        }
    }
}
