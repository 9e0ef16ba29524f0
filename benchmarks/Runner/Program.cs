// The benchmark runner (issue 5). Usage, from the repository root (benchmarks/run.sh does this):
//   dotnet run -c Release --project benchmarks/Runner -- [section ...] [--quick]
// Sections, in the order "all" runs them: hosts startup-jit startup-r2r startup-aot size throughput build analyzers generator report.
// --variants=compose,... --sizes=1000,... and --modes=jit,r2r,aot make the hosts section rebuild only those variants,
// sizes and publish modes; --sizes also limits the start-up sections to those sizes (the other sizes' rows are kept). --rounds=N overrides the start-up sections' rounds (15 JIT and R2R, 31 AOT);
// --throughput-rounds=N and --throughput-seconds=S those of the throughput section (30 rounds of 2 s).
// Results go to benchmarks/results/results.json (a section run alone replaces only its own part), and "report" renders
// docs/benchmarks.md and docs/benchmarks-ttfr.png from them. --quick runs a small smoke version into benchmarks/.work.
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Compose.Benchmarks.Runner;

var all = new[] { "hosts", "startup-jit", "startup-r2r", "startup-aot", "size", "throughput", "build", "analyzers", "generator", "report" };
var quick = args.Contains("--quick");

// --variants=compose,handwritten limits the hosts section to rebuilding those variants (after a change to Compose).
var rebuild = args.FirstOrDefault(a => a.StartsWith("--variants=", StringComparison.Ordinal)) is { } list
    ? list["--variants=".Length..].Split(',').Select(v => Enum.Parse<Variant>(v, ignoreCase: true)).ToHashSet()
    : null;

// --sizes=1000 limits the hosts section to those sizes.
var onlySizes = args.FirstOrDefault(a => a.StartsWith("--sizes=", StringComparison.Ordinal)) is { } sizeList
    ? sizeList["--sizes=".Length..].Split(',').Select(n => int.Parse(n, CultureInfo.InvariantCulture)).ToHashSet()
    : null;
// --modes=jit,r2r limits the hosts section to those publish modes.
var onlyModes = args.FirstOrDefault(a => a.StartsWith("--modes=", StringComparison.Ordinal)) is { } modeList
    ? modeList["--modes=".Length..].Split(',').Select(m => Enum.GetValues<Mode>().Single(x => x.Slug() == m.ToLowerInvariant())).ToHashSet()
    : null;
int? Option(string name) => args.FirstOrDefault(a => a.StartsWith(name + "=", StringComparison.Ordinal)) is { } option
    ? int.Parse(option[(name.Length + 1)..], CultureInfo.InvariantCulture)
    : null;
var sections = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).ToList();
if (sections.Count == 0 || sections.Contains("all"))
{
    sections = [.. all];
}

var unknown = sections.Except(all).ToList();
if (unknown.Count > 0)
{
    Console.Error.WriteLine($"Unknown section(s): {string.Join(", ", unknown)}. Known: all, {string.Join(", ", all)}.");
    return 2;
}

var repository = FindRepository();
var workspace = new Workspace(repository);
int[] sizes = quick ? [10, 40] : [10, 100, 1000];
var largest = sizes[^1];
var jitRounds = Option("--rounds") ?? (quick ? 3 : 15);
var aotRounds = Option("--rounds") ?? (quick ? 3 : 31);
// Many short alternating pairs: on a shared 2-core machine the speed drifts within seconds, so short pairs and many of
// them narrow the median's confidence interval more than long runs do (30 pairs of 2 s: about ±2 %).
var throughputRounds = Option("--throughput-rounds") ?? (quick ? 2 : 30);
var throughputSeconds = Option("--throughput-seconds") ?? 2;
var resultsFile = quick ? Path.Combine(workspace.Root, "results-quick.json") : Path.Combine(repository, "benchmarks", "results", "results.json");
var reportFile = quick ? Path.Combine(workspace.Root, "benchmarks-quick.md") : Path.Combine(repository, "docs", "benchmarks.md");
var chartFile = quick ? Path.Combine(workspace.Root, "benchmarks-ttfr.png") : Path.Combine(repository, "docs", "benchmarks-ttfr.png");
var results = Results.Load(resultsFile);
var peers = new[] { Variant.Carter, Variant.Mvc };

// Base variants before the listening ones, which reuse their plugin libraries.
var everyVariant = new[] { Variant.Compose, Variant.HandWritten, Variant.SameContract, Variant.Carter, Variant.Mvc, Variant.ComposeListening, Variant.SameContractListening };
var sizeVariants = new[] { Variant.Compose, Variant.HandWritten, Variant.SameContract };

// What the hosts section publishes: every variant JIT and ReadyToRun at every size; Native AOT for Compose and the two
// hand-written variants at every size and for Carter and MVC at the smallest (enough to record whether they serve);
// the listening hosts JIT only, from the middle size up (throughput at the middle size, start-up at the largest); and a
// 1-plugin Native AOT host of Compose and of both hand-written variants for the fixed size overhead.
IReadOnlyCollection<Mode> ModesOf(Variant variant, int plugins)
{
    IEnumerable<Mode> modes = plugins == 1 ? (sizeVariants.Contains(variant) ? [Mode.Aot] : [])
        : variant.Listening() ? (plugins >= sizes[1] ? [Mode.Jit] : [])
        : !peers.Contains(variant) || plugins == sizes[0] ? [Mode.Jit, Mode.ReadyToRun, Mode.Aot]
        : [Mode.Jit, Mode.ReadyToRun];
    return [.. modes.Where(m => onlyModes is null || onlyModes.Contains(m))];
}
var measured = sections.Any(s => s != "report");
if (measured)
{
    results.Machine = Machine();
    results.Runtime = RuntimeInformation.FrameworkDescription;
    results.Sdk = Shell.DotNet(repository, "--version").Output.Trim();
}

if (sections.Contains("hosts") || results.Started == default)
{
    results.Started = DateTimeOffset.UtcNow; // a run starts with building the hosts; later sections run alone extend it
}

foreach (var section in sections)
{
    Console.WriteLine($"== {section}");
    var loadBefore = LoadAverage();
    var stopwatch = Stopwatch.StartNew();
    switch (section)
    {
        case "hosts":
            workspace.Pack();
            foreach (var plugins in new[] { 1 }.Concat(sizes).Where(n => onlySizes is null || onlySizes.Contains(n)))
            {
                foreach (var variant in everyVariant.Where(v => rebuild is null || rebuild.Contains(v)))
                {
                    workspace.WriteAndPublish(variant, plugins, ModesOf(variant, plugins));
                }
            }

            break;
        case "startup-jit":
        case "startup-r2r":
        case "startup-aot":
            var mode = section switch { "startup-jit" => Mode.Jit, "startup-r2r" => Mode.ReadyToRun, _ => Mode.Aot };
            var startSizes = sizes.Where(n => onlySizes is null || onlySizes.Contains(n)).ToList();
            results.Startup.RemoveAll(s => s.Mode == mode.Display() && startSizes.Contains(s.Plugins));
            results.Startup.AddRange(await Sections.StartupAsync(workspace, startSizes, mode, everyVariant, mode == Mode.Aot ? aotRounds : jitRounds));
            results.Startup.Sort((a, b) => (a.Mode, a.Plugins, a.Variant).CompareTo((b.Mode, b.Plugins, b.Variant)));
            break;
        case "size":
            results.Sizes = Sections.Sizes(workspace, [1, .. sizes], sizeVariants);
            break;
        case "throughput":
            results.Throughput =
            [
                .. await Sections.ThroughputAsync(workspace, Variant.Compose, "composed", switchOffAndOn: true, sizes[1], throughputRounds, throughputSeconds, control: true),
                .. await Sections.ThroughputAsync(workspace, Variant.ComposeListening, "composed, MeterProvider listening", switchOffAndOn: false, sizes[1], throughputRounds, throughputSeconds),
            ];
            results.ThroughputSetup = Sections.ThroughputSetup(sizes[1], throughputRounds, throughputSeconds);
            break;
        case "build":
            results.BuildTime = Sections.BuildTime(workspace, largest, rounds: quick ? 2 : 7);
            break;
        case "analyzers":
            results.AnalyzerShare =
            [
                Sections.AnalyzerShare(workspace, string.Create(CultureInfo.InvariantCulture, $"Compose host, {largest:N0} plugins referenced"),
                    Path.Combine(workspace.HostDirectory(Variant.Compose, largest), "Host"), "Host.csproj",
                    () => TestHosts.WriteUnrelated(Path.Combine(workspace.HostDirectory(Variant.Compose, largest), "Host"), Environment.TickCount)),
                Sections.AnalyzerShare(workspace, string.Create(CultureInfo.InvariantCulture, $"Compose plugin library, {Math.Min(largest, TestHosts.PluginsPerLibrary)} plugins"),
                    Path.Combine(workspace.HostDirectory(Variant.Compose, largest), "Bench.Plugins00"), "Bench.Plugins00.csproj",
                    () => File.AppendAllText(Path.Combine(workspace.HostDirectory(Variant.Compose, largest), "Bench.Plugins00", "P0001.cs"), "// edited\n")),
            ];
            break;
        case "generator":
            (results.Generator, results.GeneratorSteps, results.IncrementalTests) = Sections.Generator(workspace);
            break;
        case "report":
            break;
    }

    results.SectionSeconds[section] = Math.Round(stopwatch.Elapsed.TotalSeconds);
    if (section != "report")
    {
        results.LoadAverage[section] = $"{loadBefore} → {LoadAverage()}";
    }

    if (measured)
    {
        results.Finished = DateTimeOffset.UtcNow;

        // Another run may have saved other sections meanwhile (a long hosts build beside a start-up run): merge into
        // what the file holds now, replacing only what this section measured.
        results = Results.Load(resultsFile).Merge(results, section, onlySizes);
        results.Save(resultsFile);
    }
}

Report.Chart(results, chartFile);
var command = quick ? "bash benchmarks/run.sh --quick" : "bash benchmarks/run.sh";
File.WriteAllText(reportFile, Report.Render(results, chartFile, command));
Console.WriteLine($"Wrote {reportFile} and {chartFile} from {resultsFile}.");
return 0;

static string FindRepository()
{
    for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
    {
        if (File.Exists(Path.Combine(directory.FullName, "Compose.sln")))
        {
            return directory.FullName;
        }
    }

    throw new InvalidOperationException("Run the runner from inside the Compose repository.");
}

// The machine is shared: the load averages beside each section say how quiet it was.
static string LoadAverage() =>
    File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

static string Machine()
{
    var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";
    var memory = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal", StringComparison.Ordinal));
    var kib = double.Parse(memory.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    var os = File.Exists("/etc/os-release")
        ? File.ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?.Split('=', 2)[1].Trim('"') ?? "Linux"
        : RuntimeInformation.OSDescription;
    return string.Create(CultureInfo.InvariantCulture, $"{cpu}, {Environment.ProcessorCount} cores, {kib / 1048576:F0} GiB, {os}");
}
