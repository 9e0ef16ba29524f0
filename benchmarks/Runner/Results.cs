using System.Text.Json;
using System.Text.Json.Serialization;

namespace Compose.Benchmarks.Runner;

/// <summary>Median and spread of a list of numbers.</summary>
internal sealed record Spread(double Median, double Min, double Max)
{
    public static Spread Of(IReadOnlyCollection<double> values)
    {
        if (values.Count == 0)
        {
            throw new ArgumentException("No values.", nameof(values));
        }

        var sorted = values.Order().ToArray();
        var middle = sorted.Length / 2;
        var median = sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
        return new Spread(median, sorted[0], sorted[^1]);
    }

    /// <summary>
    /// A distribution-free 95 % confidence interval of the median (order statistics n/2 ± 0.98·√n, the normal
    /// approximation of the binomial sign test), so a ratio near a target can be told from noise. Null below 6 values.
    /// </summary>
    public static Spread? MedianConfidence(IReadOnlyCollection<double> values)
    {
        if (values.Count < 6)
        {
            return null;
        }

        var sorted = values.Order().ToArray();
        var half = 0.98 * Math.Sqrt(sorted.Length);
        var low = Math.Max(0, (int)Math.Floor((sorted.Length / 2.0) - half));
        var high = Math.Min(sorted.Length - 1, (int)Math.Ceiling((sorted.Length / 2.0) + half) - 1);
        return new Spread(Of(values).Median, sorted[low], sorted[high]);
    }
}

/// <summary>Start-up of one variant at one size and mode, over all rounds.</summary>
/// <param name="Mode">"JIT", "R2R" or "AOT".</param>
/// <param name="Milliseconds">Time from process start to the first 200 from the last plugin's route.</param>
/// <param name="PeakRssMiB">VmHWM when that response arrived.</param>
/// <param name="RatioToHandWritten">Per-round ratio of this variant's time to the static hand-written host's time in the same round.</param>
/// <param name="Failure">Why the variant does not serve in this mode, when it does not.</param>
internal sealed record StartupResult(
    string Mode, int Plugins, Variant Variant, int Runs,
    Spread? Milliseconds, Spread? PeakRssMiB, Spread? RatioToHandWritten, string? Failure)
{
    /// <summary>Per-round ratio of this variant's time to the same-contract host with the same listener setting (<see cref="VariantNames.SameContractOf"/>).</summary>
    public Spread? RatioToSameContract { get; init; }

    /// <summary>Per-round ratio of this variant's time to Compose's (without listener) in the same round.</summary>
    public Spread? RatioToCompose { get; init; }

    /// <summary>Per-round ratio of this variant's peak RSS to the same-contract host's.</summary>
    public Spread? RssRatioToSameContract { get; init; }

    /// <summary>Every round's time in round order, so ratios between any two variants of a size can be taken per round.</summary>
    public IReadOnlyList<double>? RoundMilliseconds { get; init; }
}

/// <summary>A bounded wrk run's figures: one route, one phase.</summary>
/// <param name="RatioConfidence">95 % confidence interval of the median per-pair ratio (<see cref="Spread.MedianConfidence"/>).</param>
/// <param name="Control">An A/A row (the direct route against itself): its ratio is the noise floor, not a target.</param>
internal sealed record ThroughputResult(string Phase, string Route, string Path, Spread RequestsPerSecond, Spread P99Milliseconds, Spread? RatioToDirect, Spread? RatioConfidence = null, bool Control = false);

/// <summary>Wall-clock time of an incremental `dotnet build` after an unrelated edit.</summary>
internal sealed record BuildTimeResult(Variant Variant, int Plugins, int Runs, Spread Seconds, Spread? RatioToHandWritten);

/// <summary>The compiler's own ReportAnalyzer timing of one project build.</summary>
internal sealed record AnalyzerShareResult(string Project, double CoreCompileSeconds, double AllAnalyzersSeconds, double AllGeneratorsSeconds, IReadOnlyList<AnalyzerTime> Assemblies);

/// <summary>One analyzer or generator assembly's time and share from ReportAnalyzer.</summary>
internal sealed record AnalyzerTime(string Kind, string Assembly, double Seconds, string Share);

/// <summary>The native executable's size.</summary>
internal sealed record SizeResult(Variant Variant, int Plugins, long Bytes);

/// <summary>A BenchmarkDotNet row of the generator benchmark.</summary>
internal sealed record GeneratorRow(string Method, string Median, string Allocated);

/// <summary>Everything the runner measured, saved as benchmarks/results/results.json and rendered into docs/benchmarks.md.</summary>
internal sealed class Results
{
    public string Machine { get; set; } = string.Empty;

    public string Runtime { get; set; } = string.Empty;

    public string Sdk { get; set; } = string.Empty;

    public DateTimeOffset Started { get; set; }

    public DateTimeOffset Finished { get; set; }

    public List<StartupResult> Startup { get; set; } = [];

    public List<ThroughputResult> Throughput { get; set; } = [];

    public string ThroughputSetup { get; set; } = string.Empty;

    public List<BuildTimeResult> BuildTime { get; set; } = [];

    public List<AnalyzerShareResult> AnalyzerShare { get; set; } = [];

    public List<SizeResult> Sizes { get; set; } = [];

    public List<GeneratorRow> Generator { get; set; } = [];

    public string GeneratorSteps { get; set; } = string.Empty;

    public string IncrementalTests { get; set; } = string.Empty;

    /// <summary>The machine's 1-, 5- and 15-minute load averages (/proc/loadavg) when each section started and ended.</summary>
    public Dictionary<string, string> LoadAverage { get; set; } = [];

    /// <summary>How long each section of the run took, in seconds.</summary>
    public Dictionary<string, double> SectionSeconds { get; set; } = [];

    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>
    /// This file's results with the part <paramref name="section"/> measured taken from <paramref name="run"/> (start-up
    /// rows only of the run's mode and of <paramref name="sizes"/> when given), and the run's machine and timings.
    /// </summary>
    public Results Merge(Results run, string section, IReadOnlySet<int>? sizes)
    {
        Machine = run.Machine;
        Runtime = run.Runtime;
        Sdk = run.Sdk;
        Finished = run.Finished;
        if (section == "hosts" || Started == default)
        {
            Started = run.Started;
        }

        SectionSeconds[section] = run.SectionSeconds[section];
        if (run.LoadAverage.TryGetValue(section, out var load))
        {
            LoadAverage[section] = load;
        }

        switch (section)
        {
            case "startup-jit" or "startup-r2r" or "startup-aot":
                var mode = section switch { "startup-jit" => "JIT", "startup-r2r" => "R2R", _ => "AOT" };
                bool Mine(StartupResult s) => s.Mode == mode && (sizes is null || sizes.Contains(s.Plugins));
                Startup.RemoveAll(Mine);
                Startup.AddRange(run.Startup.Where(Mine));
                Startup.Sort((a, b) => (a.Mode, a.Plugins, a.Variant).CompareTo((b.Mode, b.Plugins, b.Variant)));
                break;
            case "size":
                Sizes = run.Sizes;
                break;
            case "throughput":
                Throughput = run.Throughput;
                ThroughputSetup = run.ThroughputSetup;
                break;
            case "build":
                BuildTime = run.BuildTime;
                break;
            case "analyzers":
                AnalyzerShare = run.AnalyzerShare;
                break;
            case "generator":
                Generator = run.Generator;
                GeneratorSteps = run.GeneratorSteps;
                IncrementalTests = run.IncrementalTests;
                break;
        }

        return this;
    }

    public static Results Load(string path) =>
        File.Exists(path) ? JsonSerializer.Deserialize<Results>(File.ReadAllText(path), Options) ?? new Results() : new Results();

    public void Save(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, JsonSerializer.Serialize(this, Options) + "\n");
    }
}
