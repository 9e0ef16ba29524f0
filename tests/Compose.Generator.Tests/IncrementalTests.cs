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

        // The referenced manifests are not even read again: their input, the references, is the same.
        Assert.Equal(IncrementalStepRunReason.Cached, result.TrackedSteps[TrackingNames.ReferencedManifests].Single().Outputs.Single().Reason);
        foreach (var name in new[] { TrackingNames.OwnPlugins, TrackingNames.OwnPluginList, TrackingNames.HostIdentity, TrackingNames.ReferenceContext, TrackingNames.ReferencedManifests, TrackingNames.Host })
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

    [Fact]
    public void EditInAHostThatReferencesAPluginPackageDoesNotReadItsManifestAgain()
    {
        var library = BuildLibrary("Vendor.Notes", "namespace Vendor; [ServerPlugin(\"notes\")] public sealed class NotesPlugin : IServerPlugin { public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken) => Task.CompletedTask; }");
        var compilation = Compile("Cached.Host", OutputKind.ConsoleApplication, [library], "namespace Cached; public static class Other { public static int Value => 1; }");
        var driver = CreateDriver(trackSteps: true).RunGenerators(compilation);
        Assert.Contains("=> new(\"notes\", ", GeneratedSource(driver.GetRunResult(), "Compose.Host.g.cs"), StringComparison.Ordinal);

        var tree = compilation.SyntaxTrees.First();
        var edited = compilation.ReplaceSyntaxTree(tree, CSharpSyntaxTree.ParseText(
            Usings + "namespace Cached; public static class Other { public static int Value => 2; }", GeneratorHarness.ParseOptions, path: tree.FilePath));
        var result = driver.RunGenerators(edited).GetRunResult().Results.Single();

        Assert.Equal(IncrementalStepRunReason.Cached, result.TrackedSteps[TrackingNames.ReferencedManifests].Single().Outputs.Single().Reason);
        Assert.Equal(IncrementalStepRunReason.Cached, result.TrackedSteps[TrackingNames.Host].Single().Outputs.Single().Reason);
    }

    [Fact]
    public void AddingAReferenceReadsTheManifestsAgain_AndRemovingItToo()
    {
        var notes = BuildLibrary("Vendor.Notes", "namespace Vendor; [ServerPlugin(\"notes\")] public sealed class NotesPlugin : IServerPlugin { public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken) => Task.CompletedTask; }");
        var tags = BuildLibrary("Vendor.Tags", "namespace Vendor.Tags; [ServerPlugin(\"tags\", Name = \"Tags\")] public sealed class TagsPlugin : IServerPlugin { public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken) => Task.CompletedTask; }");
        var compilation = Compile("Cached.Host", OutputKind.ConsoleApplication, [notes], "namespace Cached; public static class Other { }");
        var driver = CreateDriver(trackSteps: true).RunGenerators(compilation);

        var added = driver.RunGenerators(compilation.AddReferences(tags));
        var addedRun = added.GetRunResult();
        Assert.Equal(IncrementalStepRunReason.Modified, addedRun.Results.Single().TrackedSteps[TrackingNames.ReferencedManifests].Single().Outputs.Single().Reason);
        var host = GeneratedSource(addedRun, "Compose.Host.g.cs");
        Assert.Contains("=> new(\"notes\", ", host, StringComparison.Ordinal);
        Assert.Contains("=> new(\"tags\", \"Tags\", null, typeof(global::Vendor.Tags.TagsPlugin), \"Vendor.Tags\", ", host, StringComparison.Ordinal);

        var removed = added.RunGenerators(compilation.AddReferences(tags).RemoveReferences(notes)).GetRunResult();
        var remaining = GeneratedSource(removed, "Compose.Host.g.cs");
        Assert.DoesNotContain("\"notes\"", remaining, StringComparison.Ordinal);
        Assert.Contains("=> new(\"tags\", ", remaining, StringComparison.Ordinal);
    }

    [Fact]
    public void ARebuiltReferenceIsReadAgain()
    {
        const string Source = "namespace Vendor; [ServerPlugin(\"notes\", Name = \"NAME\")] public sealed class NotesPlugin : IServerPlugin { public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken) => Task.CompletedTask; }";
        var before = BuildLibrary("Vendor.Notes", Source.Replace("NAME", "Before", StringComparison.Ordinal));
        var after = BuildLibrary("Vendor.Notes", Source.Replace("NAME", "After", StringComparison.Ordinal));
        var compilation = Compile("Cached.Host", OutputKind.ConsoleApplication, [before], "namespace Cached; public static class Other { }");
        var driver = CreateDriver(trackSteps: true).RunGenerators(compilation);

        var run = driver.RunGenerators(compilation.ReplaceReference(before, after)).GetRunResult();

        Assert.Equal(IncrementalStepRunReason.Modified, run.Results.Single().TrackedSteps[TrackingNames.ReferencedManifests].Single().Outputs.Single().Reason);
        Assert.Contains("=> new(\"notes\", \"After\", ", GeneratedSource(run, "Compose.Host.g.cs"), StringComparison.Ordinal);
    }
}
