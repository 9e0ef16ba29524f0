using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Compose.EndToEnd.Tests.Infrastructure;

namespace Compose.EndToEnd.Tests;

/// <summary>
/// Publishes samples/Host with Native AOT once, for all <see cref="AotTests"/> and <see cref="AotFaultTests"/>, with the
/// fault plugins of tests/FaultPlugins composed in (<c>-p:ComposeFaultPlugins=true</c>; they run only in the environment "Faults").
/// </summary>
public sealed partial class AotPublishFixture : IAsyncLifetime
{
    public TempDirectory Temp { get; } = new("aot");

    /// <summary>Gets the portable runtime identifier of this machine, published for: linux-x64 on CI.</summary>
    public static string RuntimeIdentifier { get; } =
        (OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux")
        + "-" + RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant();

    public string PublishDirectory => Temp.Sub("publish");

    /// <summary>Gets the native executable (run without dotnet).</summary>
    public string NativeHost => Path.Combine(PublishDirectory, OperatingSystem.IsWindows() ? "Compose.Samples.Host.exe" : "Compose.Samples.Host");

    private readonly object _gate = new();
    private Task<ProcessResult>? _publishing;

    /// <summary>
    /// Gets the publish result, whole output included, publishing on first use (so a filtered test run that needs no
    /// native host, such as the package tests of the same collection, does not pay for the publish).
    /// </summary>
    public ProcessResult Publish => StartPublish().GetAwaiter().GetResult();

    /// <summary>
    /// Gets every distinct trim (IL2xxx) or AOT (IL3xxx) warning line in the publish output, and such warnings reported
    /// as errors (TreatWarningsAsErrors), so a failed publish names them too.
    /// </summary>
    public IReadOnlyList<string> TrimAndAotWarnings =>
        Publish.Output.Split('\n').Select(line => line.Trim()).Where(line => IlWarning().IsMatch(line)).Distinct(StringComparer.Ordinal).ToList();

    public Task InitializeAsync() => Task.CompletedTask;

    private Task<ProcessResult> StartPublish()
    {
        lock (_gate)
        {
            return _publishing ??= DotNet.RunAsync(
                RepoPaths.Root,
                "publish", RepoPaths.HostProject, "-c", "Release", "-r", RuntimeIdentifier, "-p:PublishAot=true", "-p:ComposeFaultPlugins=true", "-o", PublishDirectory);
        }
    }

    /// <summary>Fails the test, with the publish output, unless the publish succeeded and produced the native host.</summary>
    public void EnsurePublished()
    {
        Assert.NotNull(Publish);
        Assert.True(Publish.ExitCode == 0, Publish.Describe());
        Assert.True(File.Exists(NativeHost), $"{NativeHost} was not produced.{Environment.NewLine}{Publish.Describe()}");
    }

    public Task DisposeAsync()
    {
        Temp.Dispose();
        return Task.CompletedTask;
    }

    [GeneratedRegex(@"(warning|error) IL[23]\d{3}", RegexOptions.CultureInvariant)]
    private static partial Regex IlWarning();
}
