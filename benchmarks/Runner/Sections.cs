using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Compose.Benchmarks.Runner;

/// <summary>The measurements, one method per section of docs/benchmarks.md.</summary>
internal static partial class Sections
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>
    /// Time to first response and peak RSS: per size, one discarded warm-up start per variant, then
    /// <paramref name="rounds"/> rounds that start every variant once, the order rotating each round so no variant
    /// always goes first. Ratios are per round against the hosts of the same round: the static hand-written one, the
    /// same-contract one with the same listener setting, and Compose.
    /// </summary>
    public static async Task<List<StartupResult>> StartupAsync(Workspace workspace, IReadOnlyList<int> sizes, Mode mode, IReadOnlyList<Variant> variants, int rounds)
    {
        var name = mode.Display();
        var results = new List<StartupResult>();
        foreach (var plugins in sizes)
        {
            var path = TestHosts.LastPluginRoute(plugins);
            var expected = $"\"name\":\"{TestHosts.Id(plugins)}\"";
            var serving = new List<Variant>();
            foreach (var variant in variants)
            {
                var executable = workspace.Executable(variant, plugins, mode);
                if (!File.Exists(executable))
                {
                    continue;
                }

                try
                {
                    await Startup.MeasureAsync(executable, path, expected);
                    serving.Add(variant);
                }
                catch (HostDidNotServeException e)
                {
                    Console.WriteLine($"  {name} N={plugins} {variant.Display()}: does not serve: {e.Message}");
                    results.Add(new StartupResult(name, plugins, variant, 0, null, null, null, e.Message));
                }
            }

            if (serving.Count == 0)
            {
                continue;
            }

            var samples = serving.ToDictionary(v => v, _ => new List<StartSample>());
            for (var round = 0; round < rounds; round++)
            {
                var order = serving.Skip(round % serving.Count).Concat(serving.Take(round % serving.Count));
                foreach (var variant in order)
                {
                    samples[variant].Add(await Startup.MeasureAsync(workspace.Executable(variant, plugins, mode), path, expected));
                }
            }

            Spread? Ratio(Variant variant, Variant against, Func<StartSample, double> value) =>
                variant != against && samples.TryGetValue(against, out var other)
                    ? Spread.Of(samples[variant].Zip(other, (a, b) => value(a) / value(b)).ToList())
                    : null;

            foreach (var variant in serving)
            {
                var mine = samples[variant];
                var result = new StartupResult(name, plugins, variant, mine.Count,
                    Spread.Of(mine.Select(s => s.Milliseconds).ToList()), Spread.Of(mine.Select(s => s.PeakRssMiB).ToList()),
                    Ratio(variant, Variant.HandWritten, s => s.Milliseconds), null)
                {
                    RatioToSameContract = Ratio(variant, variant.SameContractOf(), s => s.Milliseconds),
                    RatioToCompose = Ratio(variant, Variant.Compose, s => s.Milliseconds),
                    RssRatioToSameContract = Ratio(variant, variant.SameContractOf(), s => s.PeakRssMiB),
                    RoundMilliseconds = [.. mine.Select(s => Math.Round(s.Milliseconds, 2))],
                };
                results.Add(result);
                static string Show(Spread? q) => q is null ? "     -" : string.Create(Inv, $"{q.Median,6:F3}");
                Console.WriteLine(string.Create(Inv,
                    $"  {name} N={plugins,-4} {variant.Display(),-26} median {result.Milliseconds!.Median,8:F1} ms  RSS {result.PeakRssMiB!.Median,6:F1} MiB  /same-contract {Show(result.RatioToSameContract)}  /static {Show(result.RatioToHandWritten)}  /Compose {Show(result.RatioToCompose)}  RSS/same-contract {Show(result.RssRatioToSameContract)}"));
            }
        }

        return results;
    }

    /// <summary>The size of every AOT-published executable.</summary>
    public static List<SizeResult> Sizes(Workspace workspace, IReadOnlyList<int> sizes, IReadOnlyList<Variant> variants) =>
        [.. from variant in variants
            from plugins in sizes
            let file = new FileInfo(workspace.Executable(variant, plugins, Mode.Aot))
            where file.Exists
            select new SizeResult(variant, plugins, file.Length)];

    /// <summary>
    /// Requests/s and p99 latency with wrk (one thread, 16 connections, <paramref name="seconds"/> s per run, loopback;
    /// the server pinned to CPU 0 and wrk to CPU 1, so the two never compete for a core) through plugin p-0001's GET /ping and GET /items/{id} and through the same handlers mapped directly on the app,
    /// alternating, <paramref name="rounds"/> rounds, in the JIT-published host of <paramref name="variant"/>; then, when
    /// <paramref name="switchOffAndOn"/>, plugin p-0001 is switched off and on again by editing appsettings.json and the
    /// plugin routes are measured again against the direct ones. Phases are named after <paramref name="phase"/>. With
    /// <paramref name="control"/>, the direct GET /ping is also measured against itself the same way (an A/A row): the
    /// spread of its ratio is the noise floor of the machine, which a ratio near 0.98 has to be read against.
    /// </summary>
    public static async Task<List<ThroughputResult>> ThroughputAsync(Workspace workspace, Variant variant, string phase, bool switchOffAndOn, int plugins, int rounds, int seconds, bool control = false)
    {
        var executable = workspace.Executable(variant, plugins, Mode.Jit);
        var directory = Path.GetDirectoryName(executable)!;
        var settings = Path.Combine(directory, "appsettings.json");
        var original = await File.ReadAllTextAsync(settings);
        var port = Startup.FreePort();
        var output = new System.Text.StringBuilder();
        using var process = Startup.Launch(executable, port, output, cpus: ServerCpu);
        var results = new List<ThroughputResult>();
        try
        {
            var baseUrl = string.Create(Inv, $"http://127.0.0.1:{port}");
            await WaitForAsync(baseUrl + "/direct/ping", 200);
            var routes = new (string Route, string Plugin, string Direct)[]
            {
                ("GET /ping", "/api/plugins/p-0001/ping", "/direct/ping"),
                ("GET /items/{id}", "/api/plugins/p-0001/items/7", "/direct/items/7"),
            };

            // Warm-up: every route once, long enough for tiered compilation to settle.
            foreach (var (_, plugin, direct) in routes)
            {
                Wrk(baseUrl + plugin, 5);
                Wrk(baseUrl + direct, 5);
            }

            results.AddRange(Measure(phase, routes, baseUrl, rounds, seconds));
            if (control)
            {
                // The noise floor: the direct route against itself, in the same alternation.
                results.AddRange(Measure(phase + ", control: direct against itself", [("GET /ping", routes[0].Direct, routes[0].Direct)], baseUrl, rounds, seconds, isControl: true));
            }

            if (!switchOffAndOn)
            {
                return results;
            }

            // Switch the plugin off and on again through a configuration reload, as an operator would.
            await File.WriteAllTextAsync(settings, SetEnabled(original, false));
            await WaitForAsync(baseUrl + routes[0].Plugin, 404);
            await File.WriteAllTextAsync(settings, SetEnabled(original, true));
            await WaitForAsync(baseUrl + routes[0].Plugin, 200);
            foreach (var (_, plugin, _) in routes)
            {
                Wrk(baseUrl + plugin, 5);
            }

            results.AddRange(Measure(phase + ", switched off and on again", routes, baseUrl, rounds, seconds));
        }
        finally
        {
            await File.WriteAllTextAsync(settings, original);
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        return results;
    }

    /// <summary>How the throughput section ran, for the page.</summary>
    public static string ThroughputSetup(int plugins, int rounds, int seconds) =>
        string.Create(Inv, $"Compose hosts with {plugins} plugins (JIT, framework-dependent Release publish) pinned to CPU {ServerCpu}; `taskset -c {WrkCpu} wrk -t1 -c16 -d{seconds}s --latency`; {rounds} alternating rounds per route and phase; wrk {WrkVersion()}.");

    private static List<ThroughputResult> Measure(string phase, (string Route, string Plugin, string Direct)[] routes, string baseUrl, int rounds, int seconds, bool isControl = false)
    {
        var results = new List<ThroughputResult>();
        foreach (var (route, plugin, direct) in routes)
        {
            var viaPlugin = new List<(double Rps, double P99)>();
            var viaDirect = new List<(double Rps, double P99)>();
            for (var round = 0; round < rounds; round++)
            {
                if (round % 2 == 0)
                {
                    viaPlugin.Add(Wrk(baseUrl + plugin, seconds));
                    viaDirect.Add(Wrk(baseUrl + direct, seconds));
                }
                else
                {
                    viaDirect.Add(Wrk(baseUrl + direct, seconds));
                    viaPlugin.Add(Wrk(baseUrl + plugin, seconds));
                }
            }

            var ratios = viaPlugin.Zip(viaDirect, (p, d) => p.Rps / d.Rps).ToList();
            var ratio = Spread.Of(ratios);
            var confidence = Spread.MedianConfidence(ratios);
            results.Add(new ThroughputResult(phase, route, plugin, Spread.Of(viaPlugin.Select(s => s.Rps).ToList()), Spread.Of(viaPlugin.Select(s => s.P99).ToList()), ratio, confidence, isControl));
            results.Add(new ThroughputResult(phase, route, direct, Spread.Of(viaDirect.Select(s => s.Rps).ToList()), Spread.Of(viaDirect.Select(s => s.P99).ToList()), null, null, isControl));
            Console.WriteLine(string.Create(Inv, $"  {phase,-40} {route,-16} plugin {results[^2].RequestsPerSecond.Median,9:F0} req/s  direct {results[^1].RequestsPerSecond.Median,9:F0} req/s  ratio {ratio.Median:F3} (95% CI {confidence?.Min:F3}-{confidence?.Max:F3}; {ratio.Min:F3}-{ratio.Max:F3})"));
        }

        return results;
    }

    private static string SetEnabled(string appsettings, bool enabled)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(appsettings)!.AsObject();
        node["Compose"] = new System.Text.Json.Nodes.JsonObject
        {
            ["Plugins"] = new System.Text.Json.Nodes.JsonObject
            {
                ["p-0001"] = new System.Text.Json.Nodes.JsonObject { ["Enabled"] = enabled },
            },
        };
        return node.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
    }

    private static async Task WaitForAsync(string url, int status)
    {
        using var client = new HttpClient();
        var stopwatch = Stopwatch.StartNew();
        while (stopwatch.Elapsed < TimeSpan.FromSeconds(60))
        {
            try
            {
                using var response = await client.GetAsync(new Uri(url));
                if ((int)response.StatusCode == status)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"{url} did not answer {status} within 60 s.");
    }

    /// <summary>The CPU the server under load runs on.</summary>
    private const string ServerCpu = "0";

    /// <summary>The CPU wrk runs on.</summary>
    private const string WrkCpu = "1";

    private static (double Rps, double P99) Wrk(string url, int seconds)
    {
        var result = Shell.Run(Environment.CurrentDirectory, "taskset", ["-c", WrkCpu, "wrk", "-t1", "-c16", $"-d{seconds}s", "--latency", url]).EnsureSuccess();
        var rps = RequestsPerSecond().Match(result.Output);
        var p99 = P99().Match(result.Output);
        var errors = NonSuccess().Match(result.Output);
        if (!rps.Success || !p99.Success)
        {
            throw new InvalidOperationException($"Unexpected wrk output:\n{result.Output}");
        }

        if (errors.Success)
        {
            throw new InvalidOperationException($"wrk saw non-2xx answers from {url}:\n{result.Output}");
        }

        return (double.Parse(rps.Groups[1].Value, Inv), Milliseconds(double.Parse(p99.Groups[1].Value, Inv), p99.Groups[2].Value));
    }

    private static double Milliseconds(double value, string unit) => unit switch
    {
        "us" => value / 1000,
        "ms" => value,
        "s" => value * 1000,
        _ => throw new InvalidOperationException($"Unknown wrk unit {unit}."),
    };

    private static string WrkVersion()
    {
        var output = Shell.Run(Environment.CurrentDirectory, "wrk", ["-v"]).Output;
        var match = Regex.Match(output, @"wrk\s+(\S+)");
        return match.Success ? match.Groups[1].Value : "(unknown version)";
    }

    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
    private static partial Regex RequestsPerSecond();

    [GeneratedRegex(@"^\s*99%\s+([\d.]+)(us|ms|s)\s*$", RegexOptions.Multiline)]
    private static partial Regex P99();

    [GeneratedRegex(@"Non-2xx or 3xx responses:\s+\d+")]
    private static partial Regex NonSuccess();

    /// <summary>
    /// Incremental `dotnet build -c Release` of the host after rewriting its Unrelated.cs, Compose and hand-written
    /// alternating, after two warm-up builds each (compiler server and MSBuild nodes running, as for a developer).
    /// </summary>
    public static List<BuildTimeResult> BuildTime(Workspace workspace, int plugins, int rounds)
    {
        var variants = new[] { Variant.Compose, Variant.HandWritten };
        var edit = 0;
        foreach (var variant in variants)
        {
            for (var i = 0; i < 2; i++)
            {
                BuildAfterEdit(workspace, variant, plugins, ++edit);
            }
        }

        var seconds = variants.ToDictionary(v => v, _ => new List<double>());
        for (var round = 0; round < rounds; round++)
        {
            foreach (var variant in round % 2 == 0 ? variants : variants.Reverse())
            {
                seconds[variant].Add(BuildAfterEdit(workspace, variant, plugins, ++edit));
            }
        }

        var results = new List<BuildTimeResult>();
        foreach (var variant in variants)
        {
            Spread? ratio = variant == Variant.HandWritten ? null : Spread.Of(seconds[variant].Zip(seconds[Variant.HandWritten], (a, b) => a / b).ToList());
            results.Add(new BuildTimeResult(variant, plugins, rounds, Spread.Of(seconds[variant]), ratio));
            Console.WriteLine(string.Create(Inv, $"  build N={plugins} {variant.Display(),-13} median {results[^1].Seconds.Median:F2} s"));
        }

        return results;
    }

    private static double BuildAfterEdit(Workspace workspace, Variant variant, int plugins, int edit)
    {
        var host = Path.Combine(workspace.HostDirectory(variant, plugins), "Host");
        TestHosts.WriteUnrelated(host, edit);
        var result = Shell.DotNet(host, "build", "Host.csproj", "-c", "Release");
        workspace.Log($"build-{variant.Slug()}-{plugins}", result.Output);
        result.EnsureSuccess();
        return result.Elapsed.TotalSeconds;
    }

    /// <summary>
    /// One project's build with -p:ReportAnalyzer=true after an edit (references not rebuilt): the compiler's own
    /// per-assembly analyzer and generator times.
    /// </summary>
    public static AnalyzerShareResult AnalyzerShare(Workspace workspace, string label, string projectDirectory, string project, Action edit)
    {
        // Once to have everything up to date and the compiler server warm, then the measured build.
        Shell.DotNet(projectDirectory, "build", project, "-c", "Release", "--no-restore", "-p:BuildProjectReferences=false").EnsureSuccess();
        edit();
        var result = Shell.DotNet(projectDirectory, "build", project, "-c", "Release", "--no-restore", "-p:BuildProjectReferences=false", "-p:ReportAnalyzer=true", "-v:d", "-clp:PerformanceSummary");
        workspace.Log("report-analyzer-" + Path.GetFileNameWithoutExtension(project), result.Output);
        result.EnsureSuccess();
        var log = result.Output;

        double Total(string kind)
        {
            var match = Regex.Match(log, $@"Total {kind} execution time:\s*([\d.]+) seconds");
            return match.Success ? double.Parse(match.Groups[1].Value, Inv) : 0;
        }

        // "  0.136   17   Compose.Analyzers, Version=..." under each total, one line per assembly (the indented lines
        // below an assembly are its analyzer types).
        var assemblies = new List<AnalyzerTime>();
        string? kind = null;
        foreach (var raw in log.Split('\n'))
        {
            var total = Regex.Match(raw, @"Total (analyzer|generator) execution time");
            if (total.Success)
            {
                kind = total.Groups[1].Value;
                continue;
            }

            var line = Regex.Match(raw, @"^(?:\s*\d+>)?\s+([\d.<]+)\s+(\S+)\s+([^,\s][^,]*), Version=");
            if (kind is not null && line.Success)
            {
                var seconds = line.Groups[1].Value.StartsWith('<') ? 0 : double.Parse(line.Groups[1].Value, Inv);
                assemblies.Add(new AnalyzerTime(kind, line.Groups[3].Value.Trim(), seconds, line.Groups[2].Value));
            }
        }

        var compile = Regex.Match(log, @"^\s*(\d+) ms\s+CoreCompile\s+\d+ calls", RegexOptions.Multiline);
        var coreCompile = compile.Success ? double.Parse(compile.Groups[1].Value, Inv) / 1000 : 0;
        return new AnalyzerShareResult(label, coreCompile, Total("analyzer"), Total("generator"), assemblies);
    }

    /// <summary>The generator's BenchmarkDotNet run, its step timings, and the incremental-pipeline tests.</summary>
    public static (List<GeneratorRow> Rows, string Steps, string Tests) Generator(Workspace workspace)
    {
        var artifacts = Path.Combine(workspace.Root, "bdn");
        if (Directory.Exists(artifacts))
        {
            Directory.Delete(artifacts, recursive: true);
        }

        var project = Path.Combine("benchmarks", "GeneratorBenchmarks", "GeneratorBenchmarks.csproj");
        var bdn = Shell.DotNet(workspace.Repository, "run", "-c", "Release", "--project", project, "--", "--filter", "*", "--artifacts", artifacts);
        workspace.Log("generator-benchmarks", bdn.Output);
        bdn.EnsureSuccess();
        var csv = Directory.GetFiles(Path.Combine(artifacts, "results"), "*-report.csv").Single();
        var lines = File.ReadAllLines(csv);
        var header = SplitCsv(lines[0]);
        int Column(string name) => Array.IndexOf(header, name) is var i and >= 0 ? i : throw new InvalidOperationException($"{csv} has no {name} column.");
        var rows = lines.Skip(1).Where(l => l.Length > 0).Select(SplitCsv)
            .Select(cells => new GeneratorRow(cells[Column("Method")], cells[Column("Median")], cells[Column("Allocated")])).ToList();

        var steps = Shell.DotNet(workspace.Repository, "run", "-c", "Release", "--project", project, "--", "--steps");
        workspace.Log("generator-steps", steps.Output);
        steps.EnsureSuccess();

        var tests = Shell.DotNet(workspace.Repository, "test", Path.Combine("tests", "Compose.Generator.Tests", "Compose.Generator.Tests.csproj"), "--filter", "FullyQualifiedName~IncrementalTests");
        workspace.Log("incremental-tests", tests.Output);
        tests.EnsureSuccess();
        var summary = Regex.Match(tests.Output, @"(Passed!|Failed!).*$", RegexOptions.Multiline);
        return (rows, steps.Output.Trim(), summary.Success ? summary.Value.Trim() : "(no summary line)");
    }

    private static string[] SplitCsv(string line)
    {
        // BenchmarkDotNet quotes cells that contain the separator (e.g. "1,234.5 ms").
        var cells = new List<string>();
        var cell = new System.Text.StringBuilder();
        var quoted = false;
        foreach (var c in line)
        {
            if (c == '"')
            {
                quoted = !quoted;
            }
            else if (c == ',' && !quoted)
            {
                cells.Add(cell.ToString().Trim());
                cell.Clear();
            }
            else
            {
                cell.Append(c);
            }
        }

        cells.Add(cell.ToString().Trim());
        return [.. cells];
    }
}
