using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Compose.Testing;

/// <summary>A child process whose standard output and error lines are handed to a callback as they arrive.</summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly Process _process;

    private ChildProcess(Process process, string commandLine)
    {
        _process = process;
        CommandLine = commandLine;
    }

    public string CommandLine { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>The dotnet host running the tests (<c>DOTNET_HOST_PATH</c>, set by <c>dotnet test</c>), so children use the same SDK.</summary>
    public static string DotNet
    {
        get
        {
            var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
            if (!string.IsNullOrEmpty(host) && File.Exists(host))
            {
                return host;
            }

            var current = Environment.ProcessPath;
            return current is not null && Path.GetFileNameWithoutExtension(current).Equals("dotnet", StringComparison.OrdinalIgnoreCase) ? current : "dotnet";
        }
    }

    public static ChildProcess Start(
        string fileName,
        IEnumerable<string> arguments,
        string workingDirectory,
        IReadOnlyDictionary<string, string?>? environment,
        Action<string> onLine)
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

        Clean(info.Environment);
        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            info.Environment[key] = value;
        }

        var commandLine = string.Join(' ', new[] { fileName }.Concat(info.ArgumentList.Select(a => a.Any(char.IsWhiteSpace) ? $"\"{a}\"" : a)));
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                onLine(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                onLine(e.Data);
            }
        };
        try
        {
            process.Start();
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            process.Dispose();
            throw new InvalidOperationException($"Could not start `{commandLine}`: {ex.Message}", ex);
        }

        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new ChildProcess(process, commandLine);
    }

    /// <summary>Waits for the process to exit and its output to be read; kills it and throws <see cref="TimeoutException"/> when <paramref name="timeout"/> passes.</summary>
    public async Task WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await _process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Kill();
            cancellationToken.ThrowIfCancellationRequested();
            throw new TimeoutException($"`{CommandLine}` did not exit within {timeout.TotalSeconds:0} s and was killed.");
        }
    }

    /// <summary>
    /// Asks the process to stop (SIGTERM on Linux and macOS, so the host runs its shutdown, plugins' ExitAsync
    /// included), then kills its process tree when it has not exited within <paramref name="grace"/>. Windows has no
    /// such signal for a console process without a console: it is killed at once.
    /// </summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (_process.HasExited)
        {
            return;
        }

        if (!OperatingSystem.IsWindows() && grace > TimeSpan.Zero && SendTerminate(_process.Id))
        {
            using var deadline = new CancellationTokenSource(grace);
            try
            {
                await _process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
                return;
            }
            catch (OperationCanceledException)
            {
                // Did not stop in time: killed below.
            }
        }

        Kill();
        using var killed = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await _process.WaitForExitAsync(killed.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Nothing more can be done.
        }
    }

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

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    /// <summary>
    /// No telemetry or banners; no MSBuild node reuse or build server (their long-lived processes would hold the output
    /// pipes open); no MSBuild, test-runner or ASP.NET Core URL and environment settings inherited from the test run.
    /// </summary>
    private static void Clean(IDictionary<string, string?> environment)
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
        environment["MSBUILDDISABLENODEREUSE"] = "1";
        environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        environment["UseSharedCompilation"] = "false";
    }

    private static bool SendTerminate(int pid)
    {
        try
        {
            return Unix.kill(pid, Unix.SIGTERM) == 0;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    private static class Unix
    {
        public const int SIGTERM = 15;

        [DllImport("libc", SetLastError = true)]
#pragma warning disable SA1300, IDE1006 // The C function's name.
        public static extern int kill(int pid, int sig);
#pragma warning restore SA1300, IDE1006
    }
}
