using System.Globalization;
using Compose.EndToEnd.Tests.Infrastructure;

namespace Compose.EndToEnd.Tests;

/// <summary>
/// Packs Compose.Abstractions, the two sample plugins, Compose.Testing, Compose.Templates, Compose.PostgreSql and
/// Compose.Gateway (Release) into a folder feed, once for all end-to-end tests, with a version no earlier run used, so
/// the NuGet global cache can never serve a stale package. The packs are release builds
/// (<c>ContinuousIntegrationBuild</c>: deterministic source paths), as a published package is built.
/// </summary>
public sealed class PackedFeedFixture : IAsyncLifetime
{
    public const string AbstractionsId = "Compose.Abstractions";
    public const string HelloWorldId = "Compose.Samples.HelloWorld";
    public const string LlmProxyId = "Compose.Samples.LlmProxy";
    public const string TestingId = "Compose.Testing";
    public const string TemplatesId = "Compose.Templates";
    public const string PostgreSqlId = "Compose.PostgreSql";
    public const string GatewayId = "Compose.Gateway";

    private static readonly string[] Projects =
        [RepoPaths.AbstractionsProject, RepoPaths.HelloWorldProject, RepoPaths.LlmProxyProject, RepoPaths.TestingProject, RepoPaths.TemplatesProject, RepoPaths.PostgreSqlProject, RepoPaths.GatewayProject];

    private readonly List<ProcessResult> _packs = [];

    private readonly TempDirectory _artifacts = new("packages", Path.Combine(RepoPaths.Root, "artifacts"));

    public TempDirectory Temp { get; } = new("packages");

    /// <summary>Gets the unique version every package of this run carries.</summary>
    public string Version { get; } = string.Create(
        CultureInfo.InvariantCulture,
        $"0.1.0-e2e.{DateTime.UtcNow:yyyyMMddHHmmss}.r{Guid.NewGuid().ToString("N")[..8]}");

    public string Feed => Temp.Sub("feed");

    /// <summary>Gets the output of each pack, for assertion messages.</summary>
    public IReadOnlyList<ProcessResult> Packs => _packs;

    /// <remarks>
    /// The packs build into their own artifacts folder (<c>UseArtifactsOutput</c>), not the projects' bin and obj: the
    /// <see cref="AotPublishFixture"/> publish runs at the same time and builds the same projects in Release with the
    /// default version, and sharing the folders let it overwrite the generator a pack was about to put in the package.
    /// The artifacts folder is inside the repository (under the git-ignored <c>artifacts/</c>, where the SDK's own
    /// artifacts layout puts it): a release build maps the repository's paths to <c>/_/</c>, and a folder outside it
    /// would leave the build machine's paths in the PDBs (ShippedPackageTests checks there are none).
    /// </remarks>
    public async Task InitializeAsync()
    {
        var artifacts = _artifacts.Path;
        foreach (var project in Projects)
        {
            var result = await DotNet.RunAsync(RepoPaths.Root, "pack", project, "-c", "Release", "-o", Feed, $"-p:Version={Version}", "-p:UseArtifactsOutput=true", $"-p:ArtifactsPath={artifacts}", "-p:ContinuousIntegrationBuild=true");
            _packs.Add(result);
            if (result.ExitCode != 0)
            {
                return; // Reported by every test through EnsurePacked.
            }
        }
    }

    /// <summary>Fails the test, with the pack output, unless every pack succeeded.</summary>
    public void EnsurePacked()
    {
        var failed = _packs.FirstOrDefault(p => p.ExitCode != 0);
        Assert.True(failed is null, failed?.Describe());
        Assert.Equal(Projects.Length, _packs.Count);
    }

    /// <summary>The path of package <paramref name="id"/> at <see cref="Version"/> in the feed.</summary>
    public string PackagePath(string id)
    {
        EnsurePacked();
        var path = Path.Combine(Feed, $"{id}.{Version}.nupkg");
        Assert.True(File.Exists(path), $"{path} was not produced. The feed holds: {string.Join(", ", Directory.GetFiles(Feed).Select(Path.GetFileName))}");
        return path;
    }

    /// <summary>The path of the symbol package (.snupkg) of <paramref name="id"/> at <see cref="Version"/> in the feed.</summary>
    public string SymbolPackagePath(string id)
    {
        EnsurePacked();
        var path = Path.Combine(Feed, $"{id}.{Version}.snupkg");
        Assert.True(File.Exists(path), $"{path} was not produced. The feed holds: {string.Join(", ", Directory.GetFiles(Feed).Select(Path.GetFileName))}");
        return path;
    }

    public Task DisposeAsync()
    {
        Temp.Dispose();
        _artifacts.Dispose();
        return Task.CompletedTask;
    }
}
