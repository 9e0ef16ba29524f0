using System.Xml.Linq;

namespace Compose.EndToEnd.Tests.Infrastructure;

/// <summary>
/// A folder outside the repository where a newcomer's projects are made and built: an <see cref="IsolatedProject"/>
/// (its own nuget.config with the packed feed and nuget.org, an empty global packages folder, nothing imported from
/// above), a private <c>DOTNET_CLI_HOME</c> so <c>dotnet new install</c> never touches the machine's template list, and
/// the machine's global packages folder as a read-only fallback, so the public packages every run needs (xunit, the
/// ILCompiler and runtime packs) are not downloaded again while this run's Compose packages, at a version no earlier
/// run used, come from the feed into the empty folder.
/// </summary>
public sealed class NewcomerWorkspace : IDisposable
{
    private readonly TempDirectory _temp;

    public NewcomerWorkspace(string purpose, string feed)
    {
        _temp = new TempDirectory(purpose);
        Directory = _temp.Sub("work");
        Home = _temp.Sub("dotnet-home");
        Packages = _temp.Sub("nuget-packages");
        IsolatedProject.Write(Directory, Packages, feed);
        AddFallbackFolder(Path.Combine(Directory, "nuget.config"));
    }

    /// <summary>Gets the folder the projects are made in (holding the nuget.config).</summary>
    public string Directory { get; }

    /// <summary>Gets the private DOTNET_CLI_HOME (template installs and first-run state live under it).</summary>
    public string Home { get; }

    /// <summary>Gets the workspace's own global packages folder.</summary>
    public string Packages { get; }

    /// <summary>The environment every dotnet command of this workspace runs with, plus <paramref name="more"/>.</summary>
    public IReadOnlyDictionary<string, string> Environment(IReadOnlyDictionary<string, string>? more = null)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal) { ["DOTNET_CLI_HOME"] = Home };
        foreach (var (key, value) in more ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        return environment;
    }

    /// <summary>Runs <c>dotnet {arguments}</c> in <see cref="Directory"/> (or <paramref name="workingDirectory"/>) with <see cref="Environment"/>.</summary>
    public Task<ProcessResult> DotNetAsync(IReadOnlyDictionary<string, string>? environment, string? workingDirectory, params string[] arguments)
    {
        var msbuild = arguments.Length > 0 && arguments[0] is "build" or "test" or "publish" or "pack" or "restore";
        string[] all = msbuild ? [.. arguments, "-tl:off", "-nodeReuse:false", "-p:UseSharedCompilation=false"] : arguments;
        return ChildProcess.RunAsync(DotNet.Executable, all, workingDirectory ?? Directory, DotNet.CommandTimeout, Environment(environment));
    }

    public void Dispose() => _temp.Dispose();

    private static void AddFallbackFolder(string nugetConfig)
    {
        var machine = System.Environment.GetEnvironmentVariable("NUGET_PACKAGES");
        if (string.IsNullOrEmpty(machine))
        {
            machine = Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        }

        if (!System.IO.Directory.Exists(machine))
        {
            return; // A fresh machine: everything is downloaded into the workspace's own folder.
        }

        var config = XDocument.Load(nugetConfig);
        config.Root!.Add(new XElement("fallbackPackageFolders", new XElement("add", new XAttribute("key", "machine"), new XAttribute("value", machine))));
        config.Save(nugetConfig);
    }
}
