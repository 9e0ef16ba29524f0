using System.Diagnostics;
using Compose.Generator;
using Microsoft.CodeAnalysis;

namespace Compose.Benchmarks;

/// <summary>
/// Not a benchmark: where a full run's time goes, from the driver's own step timings
/// (trackIncrementalGeneratorSteps' ElapsedTime) next to the wall-clock time of the run. Run with --steps.
/// </summary>
internal static class StepTimes
{
    private static readonly string[] Steps = ["OwnPlugins", "OwnPluginList", "HostIdentity", "ReferenceContext", "ReferencedManifests", "HostSetting", "Host"];

    public static void Print()
    {
        var images = Workload.BuildPluginImages();
        var warmReferences = Workload.References(images);
        var warmHost = Workload.Host(warmReferences, withOwnPlugins: true);
        Workload.CreateDriver().RunGenerators(warmHost);

        Console.WriteLine("run | wall ms | " + string.Join(" | ", Steps.Select(s => s + " ms")));
        for (var i = 0; i < 5; i++)
        {
            // Cold: new metadata references from the same images, so the plugin assemblies' symbols and attributes are decoded again
            // (the framework's are shared, as in the compiler server).
            Report("cold metadata", Workload.Host(Workload.References(images), withOwnPlugins: true));
        }

        for (var i = 0; i < 5; i++)
        {
            Report("warm metadata", warmHost.Clone());
        }

        var baseline = Workload.CreateDriver(trackSteps: true).RunGenerators(warmHost);
        var unrelated = Workload.Tree(warmHost, "/src/Host/Unrelated1.cs");
        var unrelatedAfter = Workload.Parse(Workload.UnrelatedSources(version: 1)[1], unrelated.FilePath);
        var plugin = Workload.Tree(warmHost, Workload.OwnPluginPath(7));
        var pluginAfter = Workload.OwnPluginTree(7, "Renamed 7");
        for (var i = 0; i < 5; i++)
        {
            Report("unrelated edit", warmHost.ReplaceSyntaxTree(unrelated, unrelatedAfter), baseline);
        }

        for (var i = 0; i < 5; i++)
        {
            Report("plugin renamed", warmHost.ReplaceSyntaxTree(plugin, pluginAfter), baseline);
        }
    }

    private static void Report(string label, Compilation compilation, GeneratorDriver? baseline = null)
    {
        var driver = baseline ?? Workload.CreateDriver(trackSteps: true);
        var stopwatch = Stopwatch.StartNew();
        driver = driver.RunGenerators(compilation);
        stopwatch.Stop();
        var result = driver.GetRunResult().Results.Single();
        var times = Steps.Select(name => result.TrackedSteps.TryGetValue(name, out var steps)
            ? steps.Sum(step => step.ElapsedTime.TotalMilliseconds)
            : 0);
        Console.WriteLine($"{label} | {stopwatch.Elapsed.TotalMilliseconds:F1} | " + string.Join(" | ", times.Select(t => t.ToString("F1", System.Globalization.CultureInfo.InvariantCulture))));
    }
}
