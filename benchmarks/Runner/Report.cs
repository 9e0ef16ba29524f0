using System.Globalization;
using System.Text;
using ScottPlot;

namespace Compose.Benchmarks.Runner;

/// <summary>Renders results.json into docs/benchmarks.md and the time-to-first-response chart.</summary>
internal static class Report
{
    private const string Font = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string Render(Results r, string chartFile, string command)
    {
        var md = new StringBuilder();
        void Line(string text = "") => md.Append(text).Append('\n');

        Line("# Benchmarks");
        Line();
        Line("<!-- Written by benchmarks/run.sh (benchmarks/Runner/Report.cs) from benchmarks/results/results.json. Do not edit: rerun. -->");
        Line();
        Line("Compose against what a team would otherwise write or pick: Compose's own contract written by hand (an instance class");
        Line("per plugin behind an interface, registered in DI and mapped in a loop: the limit the generated code is held to),");
        Line("static hand-written `MapGroup` code (the routes-only floor), both with the Request Delegate Generator (RDG) switched on");
        Line("in the plugin libraries, Carter 10.0.0 (`ICarterModule`, found by a run-time assembly scan) and MVC controllers");
        Line("(ApplicationParts), under JIT, ReadyToRun and Native AOT.");
        Line();
        Line("Every number below was printed by one command, on a fresh clone:");
        Line();
        Line("```");
        Line(command);
        Line("```");
        Line();
        Line(string.Create(Inv, $"Machine: {r.Machine}; .NET SDK {r.Sdk}, runtime {r.Runtime}. Run from {r.Started:yyyy-MM-dd HH:mm} to {r.Finished:HH:mm} UTC ({(r.Finished - r.Started).TotalMinutes:F0} min)."));
        Line("Raw results: [benchmarks/results/results.json](../benchmarks/results/results.json).");
        if (r.LoadAverage.Count > 0)
        {
            Line();
            Line("Load averages (1, 5, 15 min) at the start → end of each section, which include the run's own builds and whatever else " +
                "the machine ran: " + string.Join("; ", r.LoadAverage.Select(l => $"{l.Key} {l.Value}")) + ". Compare ratios taken in the same rounds, not absolute times.");
        }

        Line();

        Targets(r, Line);
        TestHostsSection(Line);
        StartupSection(r, chartFile, Line);
        ThroughputSection(r, Line);
        GeneratorSection(r, Line);
        BuildSection(r, Line);
        SizeSection(r, Line);
        return md.ToString();
    }

    private static void Targets(Results r, Action<string> line)
    {
        line("## Targets");
        line("");
        line("Start-up ratios are medians of per-round ratios (each round starts every variant once); the range follows in brackets.");
        line("");
        line("| target | measured | met |");
        line("| --- | --- | --- |");
        var sizes = r.Startup.Select(s => s.Plugins).Distinct().Order().ToList();
        var largest = sizes.Count == 0 ? 0 : sizes[^1];
        foreach (var mode in new[] { "JIT", "R2R" })
        {
            foreach (var n in sizes)
            {
                if (Find(r, mode, n, Variant.Compose)?.RatioToSameContract is { } ratio)
                {
                    line(string.Create(Inv, $"| time to first response, Compose ≤ 1.00× same-contract hand-written, {mode}, N = {n:N0} | {Show(ratio)} | {Met(ratio.Median <= 1.00)} |"));
                }
            }
        }

        if (sizes.Count > 0 && Find(r, "JIT", sizes[0], Variant.Compose)?.RatioToHandWritten is { } fixedCost)
        {
            line(string.Create(Inv, $"| time to first response, Compose ≤ 1.02× static hand-written, JIT, N = {sizes[0]:N0} (fixed cost) | {Show(fixedCost)} | {Met(fixedCost.Median <= 1.02)} |"));
        }

        foreach (var n in sizes)
        {
            if (Find(r, "AOT", n, Variant.Compose)?.RatioToHandWritten is { } ratio)
            {
                line(string.Create(Inv, $"| time to first response, Compose ≤ 1.00× static hand-written, AOT, N = {n:N0} | {Show(ratio)} | {Met(ratio.Median <= 1.00)} |"));
            }
        }

        foreach (var mode in new[] { "JIT", "R2R", "AOT" })
        {
            if (Find(r, mode, largest, Variant.Compose)?.RssRatioToSameContract is { } rss)
            {
                line(string.Create(Inv, $"| peak RSS, Compose ≤ 1.05× same-contract hand-written, {mode}, N = {largest:N0} | {Show(rss)} | {Met(rss.Median <= 1.05)} |"));
            }
        }

        if (PerPlugin(r, Variant.Compose) is { } composeSize && PerPlugin(r, Variant.HandWritten) is { } handSize)
        {
            var same = PerPlugin(r, Variant.SameContract) is { } sameSize ? string.Create(Inv, $"; same-contract {sameSize / 1024:F2} KiB, {composeSize / sameSize:F3}×") : string.Empty;
            line(string.Create(Inv, $"| AOT size per plugin, Compose ≤ 1.10× static hand-written | {composeSize / 1024:F2} KiB against {handSize / 1024:F2} KiB ({composeSize / handSize:F3}×){same} | {Met(composeSize <= handSize * 1.10)} |"));
        }

        if (Size(r, Variant.Compose, 1) is { } composeOne && Size(r, Variant.HandWritten, 1) is { } handOne)
        {
            var overhead = composeOne - handOne;
            var same = Size(r, Variant.SameContract, 1) is { } sameOne ? string.Create(Inv, $"; against same-contract {(composeOne - sameOne) / 1024.0:F0} KiB") : string.Empty;
            line(string.Create(Inv, $"| AOT fixed size overhead of Compose ≤ 256 KiB (1-plugin host against static hand-written) | {overhead / 1024.0:F0} KiB ({composeOne / 1048576.0:F2} against {handOne / 1048576.0:F2} MiB){same} | {Met(overhead <= 256 * 1024)} |"));
        }

        if (Find(r, "JIT", largest, Variant.ComposeListening) is { } listening && Find(r, "JIT", largest, Variant.Compose) is { } quiet
            && ListenerCost(r, largest) is { } cost)
        {
            line(string.Create(Inv, $"| start-up with a MeterProvider listening does not regress > 1%, JIT, N = {largest:N0}: (Compose / same-contract, both listening) ÷ (Compose / same-contract, neither listening), per round | {Show(cost)}; Compose listening / same-contract listening {listening.RatioToSameContract?.Median:F3}×, not listening {quiet.RatioToSameContract?.Median:F3}× | {Met(cost.Median <= 1.01)} |"));
        }

        var composeJit = Find(r, "JIT", largest, Variant.Compose)?.Milliseconds;
        var carterJit = Find(r, "JIT", largest, Variant.Carter)?.Milliseconds;
        if (composeJit is not null && carterJit is not null)
        {
            var speedup = carterJit.Median / composeJit.Median;
            line(string.Create(Inv, $"| ≥ 10× faster than Carter to first response at N = {largest:N0}, JIT | {speedup:F1}× ({carterJit.Median:F0} ms against {composeJit.Median:F0} ms) | {Met(speedup >= 10)} |"));
        }

        var composeAot = r.Startup.Where(s => s is { Mode: "AOT", Variant: Variant.Compose, Failure: null }).Select(s => s.Plugins).Order().ToList();
        var peersAot = r.Startup.Where(s => s.Mode == "AOT" && s.Variant is Variant.Carter or Variant.Mvc).ToList();
        if (composeAot.Count > 0)
        {
            var peers = string.Join("; ", peersAot.Select(p => $"{p.Variant.Display()}: {(p.Failure is null ? "serves" : "does not serve")}"));
            line($"| serves under Native AOT where the peers cannot | Compose serves at N = {string.Join(", ", composeAot.Select(n => n.ToString("N0", Inv)))}; {peers} | {Met(peersAot.All(p => p.Failure is not null))} |");
        }

        var control = r.Throughput.FirstOrDefault(t => t.Control && t.RatioToDirect is not null);
        foreach (var t in r.Throughput.Where(t => t.RatioToDirect is not null && !t.Control))
        {
            var confidence = t.RatioConfidence is { } c ? string.Create(Inv, $"95% CI of the median {c.Min:F3}–{c.Max:F3}; ") : "";
            var floor = control?.RatioConfidence is { } f ? string.Create(Inv, $"; A/A control {control.RatioToDirect!.Median:F3}, CI {f.Min:F3}–{f.Max:F3}") : "";
            line(string.Create(Inv, $"| requests/s through a plugin route ≥ 0.98× direct: {t.Route}, {t.Phase} | {t.RatioToDirect!.Median:F3}× (median of per-pair ratios; {confidence}pairs {t.RatioToDirect.Min:F3}–{t.RatioToDirect.Max:F3}{floor}) | {Met(t.RatioToDirect.Median >= 0.98)} |"));
        }

        if (r.IncrementalTests.Length > 0)
        {
            line($"| an unrelated edit re-emits nothing (IncrementalTests) | {r.IncrementalTests} | {Met(r.IncrementalTests.StartsWith("Passed!", StringComparison.Ordinal))} |");
        }

        var full = r.Generator.FirstOrDefault(g => g.Method == "FullRun");
        if (full is not null && ParseMilliseconds(full.Median) is { } fullMs)
        {
            line(string.Create(Inv, $"| generator full run for 1,000 plugins < 100 ms median | {full.Median} | {Met(fullMs < 100)} |"));
        }

        var unrelated = r.Generator.FirstOrDefault(g => g.Method == "UnrelatedEdit");
        if (unrelated is not null && ParseMilliseconds(unrelated.Median) is { } unrelatedMs)
        {
            line(string.Create(Inv, $"| generator per keystroke: an edit that changes no reference, 1,000 plugins referenced, ≤ 1 ms (UnrelatedEdit) | {unrelated.Median} | {Met(unrelatedMs <= 1)} |"));
        }

        line("");
        line("Where a target is not met, [benchmarks-investigation.md](benchmarks-investigation.md) has what was found, what changed");
        line("(with before and after figures) and what is left.");
        line("");
    }

    /// <summary>
    /// The listener's start-up cost to Compose at <paramref name="plugins"/>, JIT: per round, Compose's ratio to the
    /// same-contract host when both run the MeterProvider, divided by the same ratio when neither does. The SDK's own
    /// start-up cost is in both numerator hosts and cancels; what remains is what listening costs Compose's composition.
    /// </summary>
    private static Spread? ListenerCost(Results r, int plugins)
    {
        var rounds = new[] { Variant.Compose, Variant.SameContract, Variant.ComposeListening, Variant.SameContractListening }
            .Select(v => Find(r, "JIT", plugins, v)?.RoundMilliseconds).ToList();
        if (rounds.Any(x => x is null) || rounds.Select(x => x!.Count).Distinct().Count() != 1)
        {
            return null;
        }

        return Spread.Of([.. Enumerable.Range(0, rounds[0]!.Count).Select(i => rounds[2]![i] / rounds[3]![i] / (rounds[0]![i] / rounds[1]![i]))]);
    }

    private static string Show(Spread ratio) => string.Create(Inv, $"{ratio.Median:F3}× ({ratio.Min:F2}–{ratio.Max:F2})");

    private static void TestHostsSection(Action<string> line)
    {
        line("## The test hosts");
        line("");
        line($"`benchmarks/Runner` writes each host under `benchmarks/.work/hosts/{{variant}}-{{N}}`: N plugins in libraries of {TestHosts.PluginsPerLibrary} (N = 1,000 is 50 libraries),");
        line("each plugin with `GET /ping` (a constant string), `GET /items/{id:int}` (a record as JSON through a source-generated");
        line("`JsonSerializerContext` in a shared Contracts library, registered once by the host) and `POST /echo` (a JSON record in and out),");
        line("all under `/api/plugins/{id}/`. Every host is `WebApplication.CreateSlimBuilder`, `InvariantGlobalization`, the");
        line("`appsettings.json` of `dotnet new web` (Information logging to the console), published `-c Release`: framework-dependent");
        line("for JIT, framework-dependent with `-r linux-x64 -p:PublishReadyToRun=true` for ReadyToRun (R2R: the app's and the plugin");
        line("libraries' assemblies precompiled by crossgen2; the shared framework is ReadyToRun already), `-p:PublishAot=true` for");
        line("Native AOT. The variants differ only in how the plugins are written and composed:");
        line("");
        line("| variant | plugin library | host |");
        line("| --- | --- | --- |");
        line("| Compose | `[ServerPlugin(\"p-0001\")]` class implementing `IServerPlugin`, references the Compose.Abstractions package (which switches RDG on) | `AddServerPlugins(configuration)`, `MapServerPlugins()` (generated) |");
        line("| same-contract hand-written | the limit for generated code: Compose's contract by hand, an instance class per plugin implementing an `IPlugin { string Id; void Map(IEndpointRouteBuilder) }` interface, RDG switched on | each library's `services.AddSingleton<IPlugin, P0001>()` per plugin; `foreach (var p in app.Services.GetServices<IPlugin>()) p.Map(app.MapGroup(\"/api/plugins/\" + p.Id))` |");
        line("| static hand-written | the routes-only floor: a static class per plugin mapping a `MapGroup(\"/api/plugins/p-0001\")`, RDG switched on in the library | calls each library's `MapAll(app)` |");
        line($"| Carter | `ICarterModule` per plugin mapping the same group, Carter {TestHosts.CarterVersion}, as Carter's documentation shows (no RDG) | `AddCarter()`, `MapCarter()` |");
        line("| MVC | `[ApiController]` per plugin with three actions | `AddControllers()`, `MapControllers()` |");
        line($"| Compose, listener / same-contract, listener | the Compose / same-contract libraries | the same host plus an OpenTelemetry MeterProvider (OpenTelemetry.Extensions.Hosting {TestHosts.OpenTelemetryVersion}, Instrumentation.AspNetCore {TestHosts.OpenTelemetryAspNetCoreVersion}): `AddAspNetCoreInstrumentation()` (the `Microsoft.AspNetCore.Hosting` and Kestrel meters), `AddMeter(\"Compose\")`, a `PeriodicExportingMetricReader` every {TestHosts.ExportIntervalMilliseconds} ms into an exporter that reads every point and sends nothing (no network or console cost measured); JIT only |");
        line("");
    }

    private static void StartupSection(Results r, string chartFile, Action<string> line)
    {
        line("## Time to first response and peak memory");
        line("");
        line("From process start to the first 200 from the last plugin's `GET /items/42` (its body checked), polling every");
        line("millisecond with a new connection each time; peak RSS is the process's `VmHWM` at that moment. Each size and mode");
        line("starts every variant once as an unmeasured warm-up, then runs rounds that start each variant once, the order rotating");
        line("from round to round. Ratios are taken per round against the hosts started in the same round (the same-contract host");
        line("with the same listener setting; the static host; Compose), and the tables give their median and range: the machine's");
        line("noise shows in the range. Carter's and MVC's ratio to Compose is how many times longer they take.");
        line("");
        line($"![time to first response against N]({Path.GetFileName(chartFile)})");
        line("");
        foreach (var mode in new[] { "JIT", "R2R", "AOT" })
        {
            var rows = r.Startup.Where(s => s.Mode == mode).OrderBy(s => s.Plugins).ThenBy(s => s.Variant).ToList();
            if (rows.Count == 0)
            {
                continue;
            }

            line($"### {(mode == "R2R" ? "ReadyToRun" : mode)}");
            line("");
            line("| N | variant | rounds | time to first response, median (min–max), ms | ratio to same-contract | ratio to static | ratio to Compose | peak RSS, median, MiB | RSS ratio to same-contract |");
            line("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
            foreach (var s in rows)
            {
                if (s.Failure is not null)
                {
                    line(string.Create(Inv, $"| {s.Plugins:N0} | {s.Variant.Display()} | – | does not serve: {Escape(s.Failure)} | – | – | – | – | – |"));
                    continue;
                }

                static string Cell(Spread? q) => q is null ? "–" : string.Create(Inv, $"{q.Median:F3} ({q.Min:F2}–{q.Max:F2})");
                var toStatic = s.Variant.Listening() ? null : s.RatioToHandWritten;
                line(string.Create(Inv, $"| {s.Plugins:N0} | {s.Variant.Display()} | {s.Runs} | {s.Milliseconds!.Median:F1} ({s.Milliseconds.Min:F1}–{s.Milliseconds.Max:F1}) | {Cell(s.RatioToSameContract)} | {Cell(toStatic)} | {Cell(s.RatioToCompose)} | {s.PeakRssMiB!.Median:F1} | {Cell(s.RssRatioToSameContract)} |"));
            }

            line("");
        }

        if (r.Startup.Any(s => s.Mode == "AOT"))
        {
            line("Under AOT, Carter and MVC are published and started at the smallest N only, to record whether they serve (their");
            line("publish warns that they use reflection the trimmer cannot follow); Compose and the hand-written hosts at every N.");
            line("The listening hosts run under JIT only: their row against the same-contract host is against the listening one.");
            line("");
        }
    }

    private static void ThroughputSection(Results r, Action<string> line)
    {
        if (r.Throughput.Count == 0)
        {
            return;
        }

        line("## Requests/s through a plugin route");
        line("");
        line("The same static handler of plugin p-0001, once through its plugin route (`/api/plugins/p-0001/...`: the plugin's");
        line("route group and Compose's per-plugin endpoint data source) and once mapped directly on the app (`/direct/...`), on a");
        line("loopback port, alternating. Then the plugin is switched off and on again at run time by editing `appsettings.json`");
        line("(a configuration reload; the runner waits for the 404 and for the 200 again) and both are measured again.");
        line($"{r.ThroughputSetup}");
        line("");
        line("The control row measures the direct route against itself in the same alternation: its ratio should be 1, and its");
        line("confidence interval is how far this machine's noise alone moves a median ratio.");
        line("");
        line("| phase | route | path | requests/s, median (min–max) | p99 latency, median, ms | ratio to direct, median (95% CI of the median; min–max) |");
        line("| --- | --- | --- | ---: | ---: | ---: |");
        foreach (var t in r.Throughput)
        {
            var ratio = t.RatioToDirect is { } q
                ? t.RatioConfidence is { } c ? string.Create(Inv, $"{q.Median:F3} ({c.Min:F3}–{c.Max:F3}; {q.Min:F3}–{q.Max:F3})") : string.Create(Inv, $"{q.Median:F3} ({q.Min:F3}–{q.Max:F3})")
                : "–";
            line(string.Create(Inv, $"| {t.Phase} | `{t.Route}` | `{t.Path}` | {t.RequestsPerSecond.Median:F0} ({t.RequestsPerSecond.Min:F0}–{t.RequestsPerSecond.Max:F0}) | {t.P99Milliseconds.Median:F2} | {ratio} |"));
        }

        line("");
    }

    private static void GeneratorSection(Results r, Action<string> line)
    {
        if (r.Generator.Count == 0)
        {
            return;
        }

        line("## Generator cost");
        line("");
        line("`benchmarks/GeneratorBenchmarks` (BenchmarkDotNet) runs the generator through a `CSharpGeneratorDriver` over a console-app");
        line("host compilation that references 50 plugin assemblies of 20 plugins each (built with the generator, so each carries its");
        line("manifest) and the shared-framework assemblies. **FullRun**: a new driver, as in a command-line build. **UnrelatedEdit**: a");
        line("driver that already ran (the IDE, or the compiler server), after one unrelated file changed. **EditOnePluginName**: the");
        line("same over a host with 20 plugins of its own, after one changed its `Name`. The metadata of the references is shared");
        line("between invocations, as in the compiler server when they have not changed.");
        line("");
        line("| benchmark | median | allocated |");
        line("| --- | ---: | ---: |");
        foreach (var g in r.Generator)
        {
            line($"| {g.Method} | {g.Median} | {g.Allocated} |");
        }

        line("");
        line("Where the time goes (the driver's own step timings, `trackIncrementalGeneratorSteps`, for the host with 20 plugins of its");
        line("own; \"cold metadata\" runs see the plugin assemblies' metadata for the first time):");
        line("");
        line("```");
        foreach (var text in r.GeneratorSteps.Split('\n'))
        {
            line(text.TrimEnd());
        }

        line("```");
        line("");
        line("Incremental pipeline (a test, not a timing): `IncrementalTests` run with `trackIncrementalGeneratorSteps` and assert that an");
        line("unrelated edit leaves every tracked step Cached or Unchanged and emits nothing, and that renaming one plugin re-emits only its");
        line($"manifest and the host file. Result of this run: `{r.IncrementalTests}`.");
        line("");
    }

    private static void BuildSection(Results r, Action<string> line)
    {
        if (r.BuildTime.Count == 0 && r.AnalyzerShare.Count == 0)
        {
            return;
        }

        line("## Build time");
        line("");
        if (r.BuildTime.Count > 0)
        {
            line("`dotnet build -c Release` of the host (with its restore and its 50 up-to-date project references) after rewriting one");
            line("unrelated file of the host, Compose and hand-written alternating, after two warm-up builds each (compiler server and");
            line("MSBuild nodes running, as for a developer).");
            line("");
            line("| N | variant | builds | seconds, median (min–max) | ratio to hand-written, median (min–max) |");
            line("| ---: | --- | ---: | ---: | ---: |");
            foreach (var b in r.BuildTime)
            {
                var ratio = b.RatioToHandWritten is { } q ? string.Create(Inv, $"{q.Median:F3} ({q.Min:F2}–{q.Max:F2})") : "1";
                line(string.Create(Inv, $"| {b.Plugins:N0} | {b.Variant.Display()} | {b.Runs} | {b.Seconds.Median:F2} ({b.Seconds.Min:F2}–{b.Seconds.Max:F2}) | {ratio} |"));
            }

            line("");
        }

        if (r.AnalyzerShare.Count > 0)
        {
            line("Analyzers' and generators' share: one project's build after an edit (`-p:ReportAnalyzer=true`, references not");
            line("rebuilt), from the compiler's own per-assembly timings. Seconds are summed over the compiler's threads; the share is");
            line("the compiler's.");
            line("");
            line("| project | CoreCompile, s | all analyzers, s | all generators, s | assembly | kind | seconds | share |");
            line("| --- | ---: | ---: | ---: | --- | --- | ---: | ---: |");
            foreach (var a in r.AnalyzerShare)
            {
                var shown = a.Assemblies.Where(x => x.Assembly.StartsWith("Compose", StringComparison.Ordinal) || x.Assembly.Contains("RequestDelegateGenerator", StringComparison.Ordinal) || x.Seconds >= 0.05).ToList();
                foreach (var x in shown)
                {
                    line(string.Create(Inv, $"| {a.Project} | {a.CoreCompileSeconds:F2} | {a.AllAnalyzersSeconds:F3} | {a.AllGeneratorsSeconds:F3} | {x.Assembly} | {x.Kind} | {x.Seconds:F3} | {x.Share}% |"));
                }
            }

            line("");
        }
    }

    private static void SizeSection(Results r, Action<string> line)
    {
        if (r.Sizes.Count == 0)
        {
            return;
        }

        line("## Native AOT size");
        line("");
        line("The size of the published native executable. Per plugin: the growth from N = 10 to the largest N divided by the");
        line("plugins added. The 1-plugin hosts give the fixed overhead: what Compose's runtime adds to a host before any plugin.");
        line("");
        var sizes = r.Sizes.Select(s => s.Plugins).Distinct().Order().ToList();
        line("| variant | " + string.Join(" | ", sizes.Select(n => string.Create(Inv, $"N = {n:N0}, MiB"))) + " | per plugin, KiB | N = 1 against static hand-written, KiB |");
        line("| --- |" + string.Concat(sizes.Select(_ => " ---: |")) + " ---: | ---: |");
        foreach (var variant in r.Sizes.Select(s => s.Variant).Distinct().Order())
        {
            var cells = sizes.Select(n => Size(r, variant, n) is { } bytes ? string.Create(Inv, $"{bytes / 1048576.0:F2}") : "–");
            var per = PerPlugin(r, variant) is { } perPlugin ? string.Create(Inv, $"{perPlugin / 1024:F2}") : "–";
            var fixedOverhead = Size(r, variant, 1) is { } one && Size(r, Variant.HandWritten, 1) is { } floor ? string.Create(Inv, $"{(one - floor) / 1024.0:F0}") : "–";
            line($"| {variant.Display()} | {string.Join(" | ", cells)} | {per} | {fixedOverhead} |");
        }

        line("");
    }

    /// <summary>Draws time to first response (median) against N, one line per variant and mode, log–log.</summary>
    public static void Chart(Results r, string file)
    {
        if (File.Exists(Font))
        {
            Fonts.AddFontFile("DejaVu Sans", Font);
            Fonts.Default = "DejaVu Sans";
        }

        var plot = new Plot();
        var palette = new Dictionary<Variant, Color>
        {
            [Variant.Compose] = Colors.Blue,
            [Variant.HandWritten] = Colors.Black,
            [Variant.SameContract] = Colors.Gray,
            [Variant.ComposeListening] = Colors.DarkCyan,
            [Variant.SameContractListening] = Colors.DarkGray,
            [Variant.Carter] = Colors.OrangeRed,
            [Variant.Mvc] = Colors.Green,
        };
        var all = r.Startup.Where(s => s.Milliseconds is not null).ToList();
        foreach (var group in all.GroupBy(s => (s.Mode, s.Variant)).OrderBy(g => g.Key.Mode).ThenBy(g => g.Key.Variant))
        {
            var points = group.OrderBy(s => s.Plugins).ToList();
            var scatter = plot.Add.Scatter(
                points.Select(p => Math.Log10(p.Plugins)).ToArray(),
                points.Select(p => Math.Log10(p.Milliseconds!.Median)).ToArray());
            scatter.LegendText = $"{group.Key.Variant.Display()} ({group.Key.Mode})";
            scatter.Color = palette[group.Key.Variant];
            scatter.LineWidth = 2;
            scatter.MarkerSize = 8;
            scatter.LinePattern = group.Key.Mode switch { "AOT" => LinePattern.Dashed, "R2R" => LinePattern.Dotted, _ => LinePattern.Solid };
            scatter.MarkerShape = group.Key.Mode switch { "AOT" => MarkerShape.OpenSquare, "R2R" => MarkerShape.OpenCircle, _ => MarkerShape.FilledCircle };
        }

        var xTicks = new ScottPlot.TickGenerators.NumericManual();
        foreach (var n in all.Select(s => s.Plugins).Distinct().Order())
        {
            xTicks.AddMajor(Math.Log10(n), n.ToString("N0", Inv));
        }

        var yTicks = new ScottPlot.TickGenerators.NumericManual();
        foreach (var ms in new[] { 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000 })
        {
            yTicks.AddMajor(Math.Log10(ms), ms >= 1000 ? string.Create(Inv, $"{ms / 1000} s") : string.Create(Inv, $"{ms} ms"));
        }

        plot.Axes.Bottom.TickGenerator = xTicks;
        plot.Axes.Left.TickGenerator = yTicks;
        plot.Title("Time to first response (median), by number of plugins");
        plot.XLabel("plugins (3 routes each)");
        plot.YLabel("process start to first 200 (log scale)");
        plot.ShowLegend(Alignment.UpperLeft);
        plot.Axes.AutoScale();
        plot.Axes.Margins(0.08, 0.12);
        plot.SavePng(file, 1000, 620);
    }

    private static StartupResult? Find(Results r, string mode, int plugins, Variant variant) =>
        r.Startup.FirstOrDefault(s => s.Mode == mode && s.Plugins == plugins && s.Variant == variant && s.Failure is null);

    private static long? Size(Results r, Variant variant, int plugins) => r.Sizes.FirstOrDefault(s => s.Variant == variant && s.Plugins == plugins)?.Bytes;

    /// <summary>Bytes per plugin: (size at the largest N − size at the smallest N of at least 10) / (plugins added).</summary>
    private static double? PerPlugin(Results r, Variant variant)
    {
        var sizes = r.Sizes.Where(s => s.Variant == variant && s.Plugins >= 10).OrderBy(s => s.Plugins).ToList();
        return sizes.Count < 2 ? null : (double)(sizes[^1].Bytes - sizes[0].Bytes) / (sizes[^1].Plugins - sizes[0].Plugins);
    }

    private static double? ParseMilliseconds(string median)
    {
        var parts = median.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 2 || !double.TryParse(parts[0], NumberStyles.Float | NumberStyles.AllowThousands, Inv, out var value))
        {
            return null;
        }

        return parts[1] switch { "s" => value * 1000, "ms" => value, "μs" or "us" => value / 1000, "ns" => value / 1e6, _ => null };
    }

    private static string Met(bool met) => met ? "yes" : "**no**";

    private static string Escape(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
}
