using Compose.Analyzers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using static Compose.Generator.Tests.GeneratorHarness;

namespace Compose.Generator.Tests;

/// <summary>The sample plugins, as shipped, produce no Compose diagnostic (no false positives on real code).</summary>
public sealed class SampleTests
{
    [Theory]
    [InlineData("HelloWorld")]
    [InlineData("LlmProxy")]
    public async Task SamplePluginsProduceNoDiagnostics(string sample)
    {
        var folder = Path.Combine(RepositoryRoot(), "samples", sample);
        var sources = Directory.GetFiles(folder, "*.cs").Select(File.ReadAllText).ToArray();
        var compilation = Compile(sample, OutputKind.DynamicallyLinkedLibrary, null, sources);
        var (result, output) = Run(compilation);

        Assert.Empty(result.Diagnostics);
        Assert.Contains(result.Results.Single().GeneratedSources, s => s.HintName == "Compose.Manifest.g.cs");
        var diagnostics = await output.WithAnalyzers([new RouteRegistrationAnalyzer()]).GetAllDiagnosticsAsync();
        Assert.DoesNotContain(diagnostics, d => d.Id.StartsWith("CMP", StringComparison.Ordinal) || d.Id == "AD0001");
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Compose.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Compose.sln not found above " + AppContext.BaseDirectory);
    }
}
