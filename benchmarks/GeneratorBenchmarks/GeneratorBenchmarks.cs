using System.Collections.Immutable;
using BenchmarkDotNet.Attributes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Compose.Benchmarks;

/// <summary>
/// The Compose generator over a host that references 1,000 plugins in 50 assemblies plus the ASP.NET Core framework.
/// Each benchmark builds the compilation it runs on (cheap: compilations are lazy), so no bound state of an earlier
/// invocation is reused; metadata symbols of the references are shared between invocations, as in the compiler server.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
// 15 warmups: the incremental path stays in tier-0 JIT code for its first ~30 invocations (~200 ms instead of ~30 ms), and an
// IDE or the compiler server runs the driver in a long-lived process, so the steady state is what is measured.
[SimpleJob(launchCount: 1, warmupCount: 15, iterationCount: 10)]
[HideColumns("Error", "StdDev", "Mean")]
public class GeneratorBenchmarks
{
    private CSharpCompilation _host = null!;
    private GeneratorDriver _hostDriver = null!;
    private SyntaxTree _unrelatedBefore = null!;
    private SyntaxTree _unrelatedAfter = null!;

    private CSharpCompilation _hostWithOwn = null!;
    private GeneratorDriver _hostWithOwnDriver = null!;
    private SyntaxTree _pluginBefore = null!;
    private SyntaxTree _pluginAfter = null!;

    [GlobalSetup]
    public void Setup()
    {
        var references = Workload.References(Workload.BuildPluginImages());

        _host = Workload.Host(references, withOwnPlugins: false);
        _hostDriver = Workload.CreateDriver().RunGenerators(_host);
        Check(_hostDriver, Workload.PluginAssemblies * Workload.PluginsPerAssembly);
        _unrelatedBefore = Workload.Tree(_host, "/src/Host/Unrelated1.cs");
        _unrelatedAfter = Workload.Parse(Workload.UnrelatedSources(version: 1)[1], _unrelatedBefore.FilePath);

        _hostWithOwn = Workload.Host(references, withOwnPlugins: true);
        _hostWithOwnDriver = Workload.CreateDriver().RunGenerators(_hostWithOwn);
        Check(_hostWithOwnDriver, Workload.PluginAssemblies * Workload.PluginsPerAssembly + Workload.OwnPlugins);
        _pluginBefore = Workload.Tree(_hostWithOwn, Workload.OwnPluginPath(7));
        _pluginAfter = Workload.OwnPluginTree(7, "Renamed 7");
    }

    /// <summary>A new driver (as in a command-line build) over a host compilation no generator has seen.</summary>
    [Benchmark]
    public GeneratorDriver FullRun() => Workload.CreateDriver().RunGenerators(_host.Clone());

    /// <summary>A driver that already ran (as in the IDE), run again after one unrelated file changed.</summary>
    [Benchmark]
    public GeneratorDriver UnrelatedEdit() => _hostDriver.RunGenerators(_host.ReplaceSyntaxTree(_unrelatedBefore, _unrelatedAfter));

    /// <summary>A driver that already ran over a host with 20 plugins of its own, run again after one own plugin's Name changed.</summary>
    [Benchmark]
    public GeneratorDriver EditOnePluginName() => _hostWithOwnDriver.RunGenerators(_hostWithOwn.ReplaceSyntaxTree(_pluginBefore, _pluginAfter));

    /// <summary>Fails the setup unless the host source lists every plugin (so a broken workload cannot produce a fast number).</summary>
    private static void Check(GeneratorDriver driver, int plugins)
    {
        var result = driver.GetRunResult();
        if (result.Diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error))
        {
            throw new InvalidOperationException(string.Join(Environment.NewLine, result.Diagnostics));
        }

        var host = result.Results.SelectMany(r => r.GeneratedSources).SingleOrDefault(s => s.HintName == "Compose.Host.g.cs");
        var text = host.SourceText?.ToString() ?? throw new InvalidOperationException("The generator wrote no host source.");
        // Each plugin has its descriptor call in GetDescriptor, which opens with its id (ids have four digits).
        var found = Enumerable.Range(1, Workload.PluginAssemblies * Workload.PluginsPerAssembly).Count(n => text.Contains($"=> new(\"p-{n:D4}\", ", StringComparison.Ordinal))
                    + Enumerable.Range(1, Workload.OwnPlugins).Count(n => text.Contains($"=> new(\"h-{n:D4}\", ", StringComparison.Ordinal));
        if (found != plugins)
        {
            throw new InvalidOperationException($"The host source names {found} plugins, expected {plugins}.");
        }
    }
}
