using System.Globalization;

namespace Compose.Benchmarks.Runner;

/// <summary>
/// The runner's folders (benchmarks/.work, ignored by git) and the build steps every measurement starts from:
/// packing Compose.Abstractions into a folder feed, writing the test hosts and publishing them JIT and AOT.
/// </summary>
internal sealed class Workspace
{
    public Workspace(string repository)
    {
        Repository = repository;
        Root = Path.Combine(repository, "benchmarks", ".work");
        Directory.CreateDirectory(Root);
    }

    public string Repository { get; }

    public string Root { get; }

    public string Feed => Path.Combine(Root, "feed");

    public string Hosts => Path.Combine(Root, "hosts");

    public string Output => Path.Combine(Root, "out");

    public string Logs => Path.Combine(Root, "logs");

    /// <summary>The Compose.Abstractions version the hosts reference, read from the feed (set by <see cref="Pack"/>).</summary>
    public string ComposeVersion
    {
        get
        {
            var file = Path.Combine(Root, "compose-version.txt");
            return File.Exists(file) ? File.ReadAllText(file).Trim() : throw new InvalidOperationException("Compose.Abstractions was not packed: run the 'hosts' section first.");
        }
    }

    public string HostDirectory(Variant variant, int plugins) => Path.Combine(Hosts, string.Create(CultureInfo.InvariantCulture, $"{variant.Slug()}-{plugins}"));

    public string PublishDirectory(Variant variant, int plugins, Mode mode) =>
        Path.Combine(Output, string.Create(CultureInfo.InvariantCulture, $"{variant.Slug()}-{plugins}-{mode.Slug()}"));

    public string Executable(Variant variant, int plugins, Mode mode) => Path.Combine(PublishDirectory(variant, plugins, mode), TestHosts.HostAssembly);

    /// <summary>Packs Compose.Abstractions (Release) into the feed with a version no earlier run used, so no NuGet cache can serve a stale package.</summary>
    public void Pack()
    {
        var version = string.Create(CultureInfo.InvariantCulture, $"0.1.0-bench.{DateTime.UtcNow:yyyyMMddHHmmss}");
        if (Directory.Exists(Feed))
        {
            Directory.Delete(Feed, recursive: true);
        }

        Shell.DotNet(Repository, "pack", Path.Combine("src", "Abstractions", "Compose.Abstractions.csproj"), "-c", "Release", "-o", Feed, $"-p:Version={version}").EnsureSuccess();
        File.WriteAllText(Path.Combine(Root, "compose-version.txt"), version);
        TestHosts.WriteIsland(Hosts, Feed);
    }

    /// <summary>Writes the host and publishes it in each of <paramref name="modes"/> (in the order given).</summary>
    public void WriteAndPublish(Variant variant, int plugins, IReadOnlyCollection<Mode> modes)
    {
        if (modes.Count == 0)
        {
            return;
        }

        var project = TestHosts.Write(HostDirectory(variant, plugins), HostDirectory(variant.Libraries(), plugins), variant, plugins, ComposeVersion);
        foreach (var mode in modes)
        {
            Publish(variant, plugins, project, mode);
        }
    }

    private void Publish(Variant variant, int plugins, string project, Mode mode)
    {
        var output = PublishDirectory(variant, plugins, mode);
        if (Directory.Exists(output))
        {
            Directory.Delete(output, recursive: true);
        }

        // JIT: framework-dependent, portable. ReadyToRun: framework-dependent for linux-x64, every published assembly
        // precompiled by crossgen2 (the shared framework is ReadyToRun already). AOT: Native AOT for the machine's RID.
        string[] arguments = mode switch
        {
            Mode.Jit => ["-p:PublishAot=false"],
            Mode.ReadyToRun => ["-p:PublishAot=false", "-r", "linux-x64", "--self-contained", "false", "-p:PublishReadyToRun=true"],
            Mode.Aot => ["-p:PublishAot=true"],
            _ => throw new ArgumentOutOfRangeException(nameof(mode)),
        };
        var result = Shell.DotNet(Path.GetDirectoryName(project)!, ["publish", project, "-c", "Release", "-o", output, .. arguments]);
        Log($"publish-{variant.Slug()}-{plugins}-{mode.Slug()}", result.Output);
        result.EnsureSuccess();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  published {variant.Display()} N={plugins} {mode.Display()} in {result.Elapsed.TotalSeconds:F0} s"));
    }

    /// <summary>Keeps a command's full output under .work/logs.</summary>
    public void Log(string name, string text)
    {
        Directory.CreateDirectory(Logs);
        File.WriteAllText(Path.Combine(Logs, name + ".log"), text);
    }
}
