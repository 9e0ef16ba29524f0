using System.Text.RegularExpressions;

namespace Compose.EndToEnd.Tests.Infrastructure;

/// <summary>Runs the dotnet CLI.</summary>
public static partial class DotNet
{
    /// <summary>
    /// How long a restore, build, pack or publish may take before it is taken for hung: a Native AOT publish of the
    /// sample host takes 2-4 minutes on an idle 2-core machine, and over 10 on a loaded one.
    /// </summary>
    public static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(25);

    /// <summary>Gets the dotnet host running these tests, so children use the same SDK installation.</summary>
    public static string Executable { get; } = FindExecutable();

    /// <summary>
    /// Runs an MSBuild-based command (<c>build</c>, <c>pack</c>, <c>publish</c>, ...) with the classic console logger and
    /// without node reuse or the compiler server, and returns its result (whatever the exit code).
    /// </summary>
    public static Task<ProcessResult> RunAsync(string workingDirectory, params string[] arguments) =>
        ChildProcess.RunAsync(
            Executable,
            [.. arguments, "-tl:off", "-nodeReuse:false", "-p:UseSharedCompilation=false"],
            workingDirectory,
            CommandTimeout);

    /// <summary>Runs an MSBuild-based command and fails the test, with the output, unless it exits with 0.</summary>
    public static async Task<ProcessResult> RunSuccessfullyAsync(string workingDirectory, params string[] arguments)
    {
        var result = await RunAsync(workingDirectory, arguments);
        Assert.True(result.ExitCode == 0, result.Describe());
        return result;
    }

    /// <summary>The distinct MSBuild warnings (<c>file(line,col): warning CODE: message</c>) in build output.</summary>
    public static IReadOnlyList<string> Warnings(string output) =>
        output.Split('\n').Select(line => line.Trim()).Where(line => WarningLine().IsMatch(line)).Distinct(StringComparer.Ordinal).ToList();

    private static string FindExecutable()
    {
        var root = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(root) && File.Exists(root))
        {
            return root;
        }

        var current = Environment.ProcessPath;
        return current is not null && Path.GetFileNameWithoutExtension(current).Equals("dotnet", StringComparison.OrdinalIgnoreCase)
            ? current
            : "dotnet";
    }

    [GeneratedRegex(@"(^|\s|:)warning\s+[A-Za-z]+\d+\s*:", RegexOptions.CultureInvariant)]
    private static partial Regex WarningLine();
}
