using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Compose.Benchmarks.Runner;

/// <summary>One start of a published host: time from process start to the first 200 and peak RSS at that moment.</summary>
internal sealed record StartSample(double Milliseconds, double PeakRssMiB);

/// <summary>Why a host did not serve: it exited, or answered something other than 200.</summary>
internal sealed class HostDidNotServeException(string message) : Exception(message);

/// <summary>Starts published hosts and times them to their first successful response.</summary>
internal static class Startup
{
    private static readonly HttpClient Client = new(new SocketsHttpHandler
    {
        PooledConnectionLifetime = TimeSpan.Zero, // every attempt opens a new connection: nothing is reused across starts
        ConnectTimeout = TimeSpan.FromSeconds(2),
    })
    {
        Timeout = TimeSpan.FromSeconds(120),
    };

    /// <summary>A TCP port nothing listens on right now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// Starts the published host <paramref name="executable"/> (native or apphost) on <paramref name="port"/>, collecting
    /// its output into <paramref name="output"/>; pinned with <c>taskset</c> to <paramref name="cpus"/> when given.
    /// </summary>
    public static Process Launch(string executable, int port, StringBuilder output, string? cpus = null)
    {
        var info = new ProcessStartInfo(cpus is null ? executable : "taskset")
        {
            WorkingDirectory = Path.GetDirectoryName(executable)!, // content root: appsettings.json is read from here
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (cpus is not null)
        {
            info.ArgumentList.Add("-c");
            info.ArgumentList.Add(cpus);
            info.ArgumentList.Add(executable);
        }

        info.Environment["ASPNETCORE_URLS"] = string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}");
        var process = new Process { StartInfo = info };
        DataReceivedEventHandler append = (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (output)
                {
                    output.AppendLine(e.Data);
                }
            }
        };
        process.OutputDataReceived += append;
        process.ErrorDataReceived += append;
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>
    /// Starts <paramref name="executable"/>, requests <paramref name="path"/> every millisecond until it answers, and
    /// stops the host. Throws <see cref="HostDidNotServeException"/> when the host exits or the first answer is not 200.
    /// </summary>
    public static async Task<StartSample> MeasureAsync(string executable, string path, string expectedBody)
    {
        var port = FreePort();
        var output = new StringBuilder();
        var stopwatch = Stopwatch.StartNew();
        using var process = Launch(executable, port, output);
        try
        {
            var url = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}{path}"));
            while (true)
            {
                HttpResponseMessage response;
                try
                {
                    response = await Client.GetAsync(url);
                }
                catch (HttpRequestException) when (!process.HasExited && stopwatch.Elapsed < TimeSpan.FromMinutes(2))
                {
                    await Task.Delay(1); // not listening yet
                    continue;
                }
                catch (HttpRequestException)
                {
                    throw new HostDidNotServeException(Describe(process, output, "exited or never listened"));
                }

                using (response)
                {
                    var elapsed = stopwatch.Elapsed.TotalMilliseconds;
                    var peak = PeakRssMiB(process.Id);
                    var body = await response.Content.ReadAsStringAsync();
                    if (response.StatusCode != HttpStatusCode.OK || !body.Contains(expectedBody, StringComparison.Ordinal))
                    {
                        throw new HostDidNotServeException(Describe(process, output, $"answered {(int)response.StatusCode} {body}"));
                    }

                    return new StartSample(elapsed, peak);
                }
            }
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            await process.WaitForExitAsync();
        }
    }

    /// <summary>VmHWM, the process's peak resident set size so far, in MiB.</summary>
    public static double PeakRssMiB(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                var kib = double.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                return kib / 1024;
            }
        }

        throw new InvalidOperationException($"/proc/{pid}/status has no VmHWM line.");
    }

    private static string Describe(Process process, StringBuilder output, string what)
    {
        string text;
        lock (output)
        {
            text = output.ToString();
        }

        var exit = process.HasExited ? string.Create(CultureInfo.InvariantCulture, $" (exit code {process.ExitCode})") : string.Empty;
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var first = lines.FirstOrDefault(l => l.Contains("Exception", StringComparison.Ordinal)) ?? lines.FirstOrDefault() ?? "(no output)";
        return $"{what}{exit}: {first}";
    }
}
