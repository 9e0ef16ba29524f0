using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using static Compose.Generator.Tests.GeneratorHarness;

namespace Compose.Generator.Tests;

/// <summary>The pipeline caches: an edit that does not touch a plugin re-emits nothing.</summary>
public sealed class IncrementalTests
{
    private const string Plugin = """
        namespace Cached;

        [ServerPlugin("cached", Name = "Cached")]
        public sealed class CachedPlugin(ILogger<CachedPlugin> logger) : IServerPlugin
        {
            public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
            {
                logger.LogInformation("init");
                return Task.CompletedTask;
            }
        }
        """;

    [Fact]
    public void UnrelatedEditLeavesEveryStepCachedAndEmitsNothingNew()
    {
        var compilation = Compile("Cached.Host", OutputKind.ConsoleApplication, null, Plugin, "namespace Cached; public static class Other { public static int Value => 1; }");
        var driver = CreateDriver(trackSteps: true).RunGenerators(compilation);

        var edited = compilation.ReplaceSyntaxTree(
            compilation.SyntaxTrees.ElementAt(1),
            CSharpSyntaxTree.ParseText(Usings + "namespace Cached; public static class Other { public static int Value => 2; }", GeneratorHarness.ParseOptions, path: compilation.SyntaxTrees.ElementAt(1).FilePath));
        var result = driver.RunGenerators(edited).GetRunResult().Results.Single();

        foreach (var name in new[] { TrackingNames.OwnPlugins, TrackingNames.OwnPluginList, TrackingNames.CompilationModel, TrackingNames.Host })
        {
            var outputs = result.TrackedSteps[name].SelectMany(step => step.Outputs).ToList();
            Assert.NotEmpty(outputs);
            Assert.All(outputs, output => Assert.True(
                output.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged,
                $"Step {name} was {output.Reason} after an unrelated edit."));
        }

        Assert.All(result.TrackedOutputSteps.SelectMany(step => step.Value).SelectMany(step => step.Outputs), output => Assert.True(
            output.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged,
            $"An output was {output.Reason} after an unrelated edit."));
    }

    [Theory]
    [InlineData("logger.LogInformation(\"init\");", "logger.LogInformation(\"starting up\");")]
    [InlineData("namespace Cached;", "// A comment that moves every location in the file.\nnamespace Cached;")]
    public void EditInsideThePluginFileThatChangesNothingInItsModelReEmitsNothing(string before, string after)
    {
        var compilation = Compile("Cached.Host", OutputKind.ConsoleApplication, null, Plugin);
        var driver = CreateDriver(trackSteps: true).RunGenerators(compilation);

        var tree = compilation.SyntaxTrees.First();
        var edited = compilation.ReplaceSyntaxTree(tree, CSharpSyntaxTree.ParseText(
            Usings + Plugin.Replace(before, after, StringComparison.Ordinal), GeneratorHarness.ParseOptions, path: tree.FilePath));
        Assert.NotEqual(tree.ToString(), edited.SyntaxTrees.First().ToString());
        var result = driver.RunGenerators(edited).GetRunResult().Results.Single();

        // The plugin is parsed again (its file changed), but its model is equal: nothing after it runs.
        Assert.Equal(IncrementalStepRunReason.Unchanged, result.TrackedSteps[TrackingNames.OwnPlugins].Single().Outputs.Single().Reason);
        foreach (var name in new[] { TrackingNames.OwnPluginList, TrackingNames.Host })
        {
            Assert.All(result.TrackedSteps[name].SelectMany(step => step.Outputs), output => Assert.True(
                output.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged,
                $"Step {name} was {output.Reason} after an edit that changes no model."));
        }

        Assert.All(result.TrackedOutputSteps.SelectMany(step => step.Value).SelectMany(step => step.Outputs), output => Assert.True(
            output.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged,
            $"An output was {output.Reason} after an edit that changes no model."));
    }

    [Fact]
    public void RenamingAPluginReEmitsTheManifestAndTheHost()
    {
        var compilation = Compile("Cached.Host", OutputKind.ConsoleApplication, null, Plugin);
        var driver = CreateDriver(trackSteps: true).RunGenerators(compilation);

        var tree = compilation.SyntaxTrees.First();
        var edited = compilation.ReplaceSyntaxTree(tree, CSharpSyntaxTree.ParseText(
            Usings + Plugin.Replace("Name = \"Cached\"", "Name = \"Renamed\"", StringComparison.Ordinal), GeneratorHarness.ParseOptions, path: tree.FilePath));
        var run = driver.RunGenerators(edited).GetRunResult();

        Assert.Equal(IncrementalStepRunReason.Modified, run.Results.Single().TrackedSteps[TrackingNames.Host].Single().Outputs.Single().Reason);
        Assert.Contains("new(\"cached\", \"Renamed\", ", GeneratedSource(run, "Compose.Host.g.cs"), StringComparison.Ordinal);
        Assert.Contains("Name = \"Renamed\"", GeneratedSource(run, "Compose.Manifest.g.cs"), StringComparison.Ordinal);
    }
}
