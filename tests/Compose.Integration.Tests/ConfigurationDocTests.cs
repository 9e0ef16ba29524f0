using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Primitives;

namespace Compose.Integration.Tests;

/// <summary>
/// docs/configuration.md calls itself the full schema: every key Compose reads must be in it, in its table and in the
/// full example, and every key it documents must be one Compose reads.
/// </summary>
public sealed partial class ConfigurationDocTests
{
    [Fact]
    public void EveryHostWideKeyComposeReadsIsDocumented_AndNoOther()
    {
        var read = HostWideKeysRead();
        var documented = TableKeys("Host-wide keys");

        Assert.Empty(read.Except(documented, StringComparer.OrdinalIgnoreCase).Select(k => $"Compose:{k} is read but missing from the host-wide table of docs/configuration.md"));
        Assert.Empty(documented.Except(read, StringComparer.OrdinalIgnoreCase).Select(k => $"Compose:{k} is documented but Compose does not read it"));
        var example = FullExample();
        Assert.Empty(read.Where(k => !example.Contains($"\"{k}\":", StringComparison.Ordinal)).Select(k => $"Compose:{k} is missing from the full example of docs/configuration.md"));
    }

    [Fact]
    public void EveryPerPluginKeyComposeReadsIsDocumented_AndNoOther()
    {
        // PluginSettings holds the keys Compose reads from Compose:Plugins:{id}, one constant each (…Key).
        var settings = typeof(ComposeOptions).Assembly.GetType("Compose.Hosting.PluginSettings", throwOnError: true)!;
        var read = settings.GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.Name.EndsWith("Key", StringComparison.Ordinal))
            .Select(f => (string)f.GetRawConstantValue()!)
            .ToList();
        Assert.NotEmpty(read);
        var documented = TableKeys("Per-plugin keys");

        Assert.Empty(read.Except(documented, StringComparer.OrdinalIgnoreCase).Select(k => $"Compose:Plugins:{{id}}:{k} is read but missing from the per-plugin table of docs/configuration.md"));
        Assert.Empty(documented.Except(read, StringComparer.OrdinalIgnoreCase).Select(k => $"Compose:Plugins:{{id}}:{k} is documented but Compose does not read it"));
    }

    /// <summary>
    /// The keys <see cref="ComposeOptions.FromConfiguration"/> reads (recorded from a configuration that answers
    /// nothing), plus the <c>Plugins</c> section's parent, which has its own table: every settable property too.
    /// </summary>
    private static List<string> HostWideKeysRead()
    {
        var recording = new RecordingConfiguration();
        ComposeOptions.FromConfiguration(recording);
        var properties = typeof(ComposeOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).Select(p => p.Name);
        var missed = properties.Except(recording.Keys, StringComparer.OrdinalIgnoreCase).ToList();
        Assert.True(missed.Count == 0, $"ComposeOptions.FromConfiguration does not read {string.Join(", ", missed)}.");
        return [.. recording.Keys.Distinct(StringComparer.OrdinalIgnoreCase)];
    }

    private static string Doc => File.ReadAllText(Path.Combine(RepoRoot(), "docs", "configuration.md"));

    private static List<string> TableKeys(string heading)
    {
        var doc = Doc;
        var start = doc.IndexOf($"## {heading}", StringComparison.Ordinal);
        Assert.True(start >= 0, $"docs/configuration.md has no section '## {heading}'.");
        var end = doc.IndexOf("\n## ", start + 3, StringComparison.Ordinal);
        var section = end < 0 ? doc[start..] : doc[start..end];
        return [.. TableRow().Matches(section).Select(m => m.Groups["key"].Value)];
    }

    private static string FullExample()
    {
        var match = JsonBlock().Match(Doc);
        Assert.True(match.Success, "docs/configuration.md has no ```json example.");
        return match.Groups["json"].Value;
    }

    private static string RepoRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Compose.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No folder above {AppContext.BaseDirectory} holds Compose.sln.");
    }

    [GeneratedRegex(@"^\| `(?<key>[A-Za-z]+)` \|", RegexOptions.Multiline)]
    private static partial Regex TableRow();

    [GeneratedRegex(@"```json\s*(?<json>.*?)```", RegexOptions.Singleline)]
    private static partial Regex JsonBlock();

    /// <summary>A configuration section with no values that notes every key read from it.</summary>
    private sealed class RecordingConfiguration : IConfiguration
    {
        public List<string> Keys { get; } = [];

        public string? this[string key]
        {
            get
            {
                Keys.Add(key);
                return null;
            }
            set => throw new NotSupportedException();
        }

        public IEnumerable<IConfigurationSection> GetChildren() => [];

        public IChangeToken GetReloadToken() => new CancellationChangeToken(CancellationToken.None);

        public IConfigurationSection GetSection(string key)
        {
            Keys.Add(key);
            return new ConfigurationBuilder().Build().GetSection(key);
        }
    }
}
