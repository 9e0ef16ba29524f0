using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Compose.Testing;

/// <summary>
/// A host project published with Native AOT: <c>dotnet publish -c Release -r {rid} -p:PublishAot=true</c>, once per
/// test run (the same project and arguments return the same publish to every caller), into a temporary folder
/// deleted when the test process exits. <see cref="StartAsync"/> runs the native binary as a
/// <see cref="NativeTestHost"/>.
/// </summary>
/// <remarks>
/// WebApplicationFactory and TestServer run a host inside the test process, under the JIT; a Native AOT host cannot
/// be loaded that way. This runs the real native executable instead and talks to it over HTTP on 127.0.0.1, so the
/// same <see cref="IComposeTestServer"/> tests that run in process run against the published binary. Publishing
/// needs the AOT toolchain (clang or gcc and zlib on Linux) and takes minutes.
/// </remarks>
public sealed partial class NativeAotPublish
{
    /// <summary>How long a publish may take before it is killed.</summary>
    public static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(20);

    private static readonly ConcurrentDictionary<string, Lazy<Task<NativeAotPublish>>> Publishes = new(StringComparer.Ordinal);

    private NativeAotPublish(string executable, string output, TimeSpan duration)
    {
        Executable = executable;
        Directory = Path.GetDirectoryName(executable)!;
        Output = output;
        Duration = duration;
    }

    /// <summary>Gets this machine's runtime identifier as the SDK spells it, for example <c>linux-x64</c>: what <see cref="PublishAsync"/> publishes for.</summary>
    public static string RuntimeIdentifier { get; } =
        (OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux") + "-" + RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant();

    /// <summary>Gets the native executable.</summary>
    public string Executable { get; }

    /// <summary>Gets the folder the host was published to (its <c>appsettings.json</c> and <c>wwwroot</c> are here).</summary>
    public string Directory { get; }

    /// <summary>Gets the whole output of <c>dotnet publish</c> (empty for <see cref="FromExecutable"/>).</summary>
    public string Output { get; }

    /// <summary>Gets how long the publish took.</summary>
    public TimeSpan Duration { get; }

    /// <summary>Gets every distinct trim (IL2xxx) or AOT (IL3xxx) warning, or such a warning reported as an error, in <see cref="Output"/>.</summary>
    public IReadOnlyList<string> TrimAndAotWarnings =>
        Output.Split('\n').Select(l => l.Trim()).Where(l => IlWarning().IsMatch(l)).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>
    /// Publishes <paramref name="project"/> with Native AOT for <see cref="RuntimeIdentifier"/> in Release, or returns
    /// the publish an earlier call with the same project and arguments started in this process.
    /// </summary>
    /// <param name="project">The host's project file (see <see cref="FindAbove"/> to locate it from the test output folder).</param>
    /// <param name="arguments">More <c>dotnet publish</c> arguments, for example <c>-f</c>, <c>net8.0</c> or <c>-p:Version=1.2.3</c>.</param>
    /// <returns>The publish.</returns>
    /// <exception cref="FileNotFoundException"><paramref name="project"/> does not exist.</exception>
    /// <exception cref="InvalidOperationException">The publish failed or produced no executable; the message carries its output.</exception>
    /// <exception cref="TimeoutException">The publish took longer than <see cref="PublishTimeout"/>.</exception>
    public static Task<NativeAotPublish> PublishAsync(string project, params string[] arguments)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(project);
        ArgumentNullException.ThrowIfNull(arguments);
        var path = Path.GetFullPath(project);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"The host project {path} does not exist.", path);
        }

        var key = path + "\n" + string.Join("\n", arguments);
        var publish = Publishes.GetOrAdd(key, _ => new Lazy<Task<NativeAotPublish>>(() => PublishCoreAsync(path, arguments)));
        return publish.Value; // A failed publish stays failed for the run: every test reports it at once.
    }

    /// <summary>Wraps a native host published earlier (for example by a CI step, passed in an environment variable) without publishing.</summary>
    /// <param name="executable">The native executable.</param>
    /// <returns>The publish.</returns>
    /// <exception cref="FileNotFoundException"><paramref name="executable"/> does not exist.</exception>
    public static NativeAotPublish FromExecutable(string executable)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(executable);
        var path = Path.GetFullPath(executable);
        return File.Exists(path) ? new NativeAotPublish(path, string.Empty, TimeSpan.Zero) : throw new FileNotFoundException($"The native host {path} does not exist.", path);
    }

    /// <summary>
    /// Finds <paramref name="relativePath"/> (for example <c>src/MyHost/MyHost.csproj</c>) in the test output folder
    /// or the nearest folder above it that has it.
    /// </summary>
    /// <param name="relativePath">A path relative to some folder above the tests' output folder.</param>
    /// <returns>The full path.</returns>
    /// <exception cref="FileNotFoundException">No folder above has it.</exception>
    public static string FindAbove(string relativePath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(relativePath);
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, relativePath);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"{relativePath} was not found in {AppContext.BaseDirectory} or any folder above it.", relativePath);
    }

    /// <summary>Starts the native host on a free port of 127.0.0.1 and waits until it answers; see <see cref="NativeTestHost"/>.</summary>
    /// <param name="options">Settings, environment and readiness; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Cancels the wait for readiness (the process is then stopped).</param>
    /// <returns>The running host; dispose it to stop the process.</returns>
    /// <exception cref="InvalidOperationException">The process exited before it answered; the message carries its output.</exception>
    /// <exception cref="TimeoutException">It did not answer within <see cref="NativeTestHostOptions.StartTimeout"/>.</exception>
    public Task<NativeTestHost> StartAsync(NativeTestHostOptions? options = null, CancellationToken cancellationToken = default)
        => NativeTestHost.StartAsync(this, options ?? new NativeTestHostOptions(), cancellationToken);

    private static async Task<NativeAotPublish> PublishCoreAsync(string project, string[] arguments)
    {
        var name = Path.GetFileNameWithoutExtension(project);
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(project + "\n" + string.Join("\n", arguments))))[..12];
        var output = Path.Combine(Path.GetTempPath(), $"compose-aot-{name}-{hash}-{Environment.ProcessId}");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => TemporaryFolder.Delete(output);

        var text = new StringBuilder();
        var stopwatch = Stopwatch.StartNew();
        using var process = ChildProcess.Start(
            ChildProcess.DotNet,
            ["publish", project, "-c", "Release", "-r", RuntimeIdentifier, "-p:PublishAot=true", "-o", output, .. arguments, "-tl:off", "-nodeReuse:false", "-p:UseSharedCompilation=false"],
            Path.GetDirectoryName(project)!,
            environment: null,
            line =>
            {
                lock (text)
                {
                    text.AppendLine(line);
                }
            });
        await process.WaitForExitAsync(PublishTimeout, CancellationToken.None).ConfigureAwait(false);
        string all;
        lock (text)
        {
            all = text.ToString();
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"`{process.CommandLine}` exited with code {process.ExitCode}.{Environment.NewLine}{Tail(all)}");
        }

        var assemblyName = AssemblyNameOf(project) ?? name;
        var executable = Path.Combine(output, OperatingSystem.IsWindows() ? assemblyName + ".exe" : assemblyName);
        if (!File.Exists(executable))
        {
            throw new InvalidOperationException($"`{process.CommandLine}` produced no {executable}.{Environment.NewLine}{Tail(all)}");
        }

        return new NativeAotPublish(executable, all, stopwatch.Elapsed);
    }

    /// <summary>The project's <c>AssemblyName</c> when its file sets one literally.</summary>
    private static string? AssemblyNameOf(string project)
    {
        var match = AssemblyNameProperty().Match(File.ReadAllText(project));
        return match.Success && !match.Groups[1].Value.Contains('$', StringComparison.Ordinal) ? match.Groups[1].Value.Trim() : null;
    }

    private static string Tail(string output) => output.Length <= 20_000 ? output : "[...]" + output[^20_000..];

    [GeneratedRegex(@"(warning|error) IL[23]\d{3}", RegexOptions.CultureInvariant)]
    private static partial Regex IlWarning();

    [GeneratedRegex(@"<AssemblyName>([^<]+)</AssemblyName>", RegexOptions.CultureInvariant)]
    private static partial Regex AssemblyNameProperty();
}
