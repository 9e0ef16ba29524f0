using System.Text.RegularExpressions;

namespace Compose.EndToEnd.Tests.Infrastructure;

/// <summary>The whole files a Markdown page shows: each fenced block whose nearest preceding non-blank line is <c>`path`:</c>.</summary>
public static partial class MarkdownFiles
{
    /// <summary>Reads <paramref name="markdown"/> and returns its files by path (relative, with <c>/</c>), each ending in one newline.</summary>
    public static Dictionary<string, string> Extract(string markdown)
    {
        var lines = File.ReadAllLines(markdown);
        var name = Path.GetFileName(markdown);
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < lines.Length; i++)
        {
            if (!lines[i].StartsWith("```", StringComparison.Ordinal) || lines[i].Trim() == "```")
            {
                continue;
            }

            var end = Array.FindIndex(lines, i + 1, l => l.Trim() == "```");
            Assert.True(end > i, $"{name}: the code block at line {i + 1} is not closed.");
            var label = lines.Take(i).Reverse().FirstOrDefault(l => !string.IsNullOrWhiteSpace(l)) ?? string.Empty;
            var match = FileLabel().Match(label.Trim());
            if (match.Success)
            {
                Assert.True(files.TryAdd(match.Groups[1].Value, string.Join('\n', lines[(i + 1)..end]) + "\n"), $"{name} shows {match.Groups[1].Value} twice.");
            }

            i = end;
        }

        return files;
    }

    /// <summary>Writes <paramref name="files"/> under <paramref name="directory"/>, each <c>Version="{from}"</c> replaced by <c>Version="{to}"</c>.</summary>
    public static void Write(IReadOnlyDictionary<string, string> files, string directory, string from, string to)
    {
        foreach (var (path, text) in files)
        {
            var full = Path.Combine(directory, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllText(full, text.Replace($"Version=\"{from}\"", $"Version=\"{to}\"", StringComparison.Ordinal));
        }
    }

    [GeneratedRegex(@"^`([A-Za-z0-9_.\-/]+\.[a-z]+)`:$", RegexOptions.CultureInvariant)]
    private static partial Regex FileLabel();
}
