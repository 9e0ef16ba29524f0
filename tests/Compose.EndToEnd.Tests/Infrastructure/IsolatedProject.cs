using System.Security;
using System.Xml.Linq;

namespace Compose.EndToEnd.Tests.Infrastructure;

/// <summary>
/// Makes a temp folder a project that knows nothing of this repository: its own nuget.config (the given folder
/// feeds, nuget.org, and an isolated global packages folder, so nothing comes from the cache) and empty
/// Directory.Build/Packages files so MSBuild imports nothing from above.
/// </summary>
public static class IsolatedProject
{
    public static void Write(string directory, string packagesFolder, params string[] feeds)
    {
        var sources = string.Join(Environment.NewLine, feeds.Select((feed, i) => $"""    <add key="feed{i}" value="{SecurityElement.Escape(feed)}" />"""));
        File.WriteAllText(Path.Combine(directory, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config>
                <add key="globalPackagesFolder" value="{SecurityElement.Escape(packagesFolder)}" />
              </config>
              <packageSources>
                <clear />
            {sources}
                <add key="nuget.org" value="{SecurityElement.Escape(NuGetOrgSource())}" />
              </packageSources>
            </configuration>
            """);
        foreach (var name in new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props" })
        {
            File.WriteAllText(Path.Combine(directory, name), "<Project />");
        }
    }

    /// <summary>The nuget.org source URL in the repository's nuget.config.</summary>
    private static string NuGetOrgSource()
    {
        var config = XDocument.Load(RepoPaths.NuGetConfig);
        var source = config.Descendants("packageSources").Elements("add").FirstOrDefault(e => (string?)e.Attribute("key") == "nuget.org");
        var value = (string?)source?.Attribute("value");
        Assert.False(string.IsNullOrEmpty(value), $"{RepoPaths.NuGetConfig} has no nuget.org package source.");
        return value;
    }
}
