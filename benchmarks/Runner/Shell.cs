using System.Diagnostics;
using System.Text;

namespace Compose.Benchmarks.Runner;

/// <summary>The outcome of a finished child process.</summary>
internal sealed record ProcessResult(string Command, int ExitCode, string Output, TimeSpan Elapsed)
{
    /// <summary>Throws with the command's last lines of output unless it exited with 0.</summary>
    public ProcessResult EnsureSuccess()
    {
        if (ExitCode != 0)
        {
            var tail = string.Join('\n', Output.Split('\n').TakeLast(40));
            throw new InvalidOperationException($"`{Command}` exited with {ExitCode}:\n{tail}");
        }

        return this;
    }
}

/// <summary>Runs child processes (dotnet, wrk) to completion, capturing their output.</summary>
internal static class Shell
{
    /// <summary>Runs <paramref name="file"/> in <paramref name="directory"/> and waits for it.</summary>
    /// <param name="echo">Whether to copy the output to the console as it arrives.</param>
    public static ProcessResult Run(string directory, string file, IEnumerable<string> arguments, bool echo = false, IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo(file)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        // Child dotnet commands print plain English and no first-run banner, whatever the machine's settings.
        info.Environment["DOTNET_CLI_UI_LANGUAGE"] = "en";
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var command = $"{file} {string.Join(' ', info.ArgumentList)}";
        var output = new StringBuilder();
        var stopwatch = Stopwatch.StartNew();
        using var process = new Process { StartInfo = info };
        DataReceivedEventHandler append = (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (output)
            {
                output.AppendLine(e.Data);
            }

            if (echo)
            {
                Console.WriteLine("    " + e.Data);
            }
        };
        process.OutputDataReceived += append;
        process.ErrorDataReceived += append;
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout ?? TimeSpan.FromMinutes(60)))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new TimeoutException($"`{command}` did not finish within {timeout}.");
        }

        process.WaitForExit(); // flushes the asynchronous output readers
        stopwatch.Stop();
        lock (output)
        {
            return new ProcessResult(command, process.ExitCode, output.ToString(), stopwatch.Elapsed);
        }
    }

    /// <summary>Runs the dotnet CLI.</summary>
    public static ProcessResult DotNet(string directory, params string[] arguments) => Run(directory, "dotnet", arguments);

    /// <summary>Whether <paramref name="program"/> is on the PATH.</summary>
    public static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(directory => File.Exists(Path.Combine(directory, program)));
}
