using System.Diagnostics;
using Compose.EndToEnd.Tests.Infrastructure;
using Xunit.Sdk;

namespace Compose.EndToEnd.Tests;

/// <summary>
/// What a newcomer does with the template package, once per framework and both frameworks at the same time (they
/// share nothing but the read-only feed): install Compose.Templates from the packed feed into a private
/// DOTNET_CLI_HOME, <c>dotnet new compose-plugin</c> and <c>compose-host</c>, reference the plugin from the host, build
/// with TreatWarningsAsErrors, run the plugin's tests, and publish the host (Native AOT; for net8.0 also
/// self-contained on the .NET 8 runtime packs). The steps' results are kept for <see cref="TemplateTests"/>.
/// </summary>
public sealed class TemplateFixture : IDisposable
{
    public const string PluginName = "Acme.Notes";
    public const string PluginId = "acme-notes";
    public const string HostName = "Acme.Host";

    private readonly Lock _lock = new();
    private readonly List<NewcomerWorkspace> _workspaces = [];
    private Task<IReadOnlyDictionary<string, TemplateRun>>? _runs;

    /// <summary>Gets the run for <paramref name="framework"/>; the first call starts the runs of both frameworks.</summary>
    public async Task<TemplateRun> RunAsync(PackedFeedFixture feed, string framework)
    {
        feed.EnsurePacked();
        lock (_lock)
        {
            _runs ??= RunAllAsync(feed);
        }

        return (await _runs)[framework];
    }

    public void Dispose()
    {
        foreach (var workspace in _workspaces)
        {
            workspace.Dispose();
        }
    }

    private async Task<IReadOnlyDictionary<string, TemplateRun>> RunAllAsync(PackedFeedFixture feed)
    {
        var runs = new[] { new TemplateRun("net10.0", Workspace(feed, "net10")), new TemplateRun("net8.0", Workspace(feed, "net8")) };
        await Task.WhenAll(runs.Select(run => Task.Run(() => run.ExecuteAsync(feed))));
        return runs.ToDictionary(r => r.Framework);
    }

    private NewcomerWorkspace Workspace(PackedFeedFixture feed, string name)
    {
        var workspace = new NewcomerWorkspace($"templates-{name}", feed.Feed);
        lock (_lock)
        {
            _workspaces.Add(workspace);
        }

        return workspace;
    }
}

/// <summary>One framework's pass through the templates: each step's result, in order; a failed step ends the pass.</summary>
public sealed class TemplateRun(string framework, NewcomerWorkspace workspace)
{
    private readonly List<(string Step, ProcessResult Result)> _steps = [];

    public string Framework { get; } = framework;

    public NewcomerWorkspace Workspace { get; } = workspace;

    public string PluginDirectory => Path.Combine(Workspace.Directory, TemplateFixture.PluginName);

    public string TestsDirectory => Path.Combine(Workspace.Directory, TemplateFixture.PluginName + ".Tests");

    public string HostDirectory => Path.Combine(Workspace.Directory, TemplateFixture.HostName);

    public string HostProject => Path.Combine(HostDirectory, TemplateFixture.HostName + ".csproj");

    public string HostDll => Path.Combine(HostDirectory, "bin", "Debug", Framework, TemplateFixture.HostName + ".dll");

    public string AotDirectory => Path.Combine(Workspace.Directory, "publish-aot");

    public string SelfContainedDirectory => Path.Combine(Workspace.Directory, "publish-self-contained");

    public string AotExecutable => Executable(AotDirectory);

    public string SelfContainedExecutable => Executable(SelfContainedDirectory);

    /// <summary>Gets whether this framework's pass also publishes self-contained under the JIT (net8.0: the .NET 8 runtime packs, no .NET 8 runtime on the machine).</summary>
    public bool PublishesSelfContained => Framework == "net8.0";

    /// <summary>Gets how long the whole pass took.</summary>
    public TimeSpan Duration { get; private set; }

    /// <summary>Gets how long each step took, for the test output.</summary>
    public string Timings => string.Join(", ", _steps.Select(s => $"{s.Step} {s.Result.Duration.TotalSeconds:F0}s"));

    /// <summary>
    /// The extra arguments of the plugin's test run. This machine has only the .NET 10 runtime, and a net8.0 test
    /// host rolled forward to it breaks TestServer 8 (System.Text.Json 10 asks its response PipeWriter for
    /// UnflushedBytes), so net8.0 tests run self-contained, on the .NET 8 runtime packs, as a newcomer without a
    /// .NET 8 runtime would run them.
    /// </summary>
    public string[] TestArguments => Framework == "net8.0" ? ["-r", AotPublishFixture.RuntimeIdentifier, "-p:SelfContained=true"] : [];

    /// <summary>The result of <paramref name="step"/>; fails the test, with the output, when it or an earlier step failed.</summary>
    public ProcessResult Step(string step)
    {
        lock (_steps)
        {
            var failed = _steps.FirstOrDefault(s => s.Result.ExitCode != 0);
            if (failed.Result is not null)
            {
                throw new XunitException($"{Framework}: step '{failed.Step}' failed, so '{step}' could not run.{Environment.NewLine}{failed.Result.Describe()}");
            }

            var found = _steps.FirstOrDefault(s => s.Step == step);
            Assert.True(found.Result is not null, $"{Framework}: step '{step}' did not run. Steps: {Timings}");
            return found.Result;
        }
    }

    internal async Task ExecuteAsync(PackedFeedFixture feed)
    {
        var stopwatch = Stopwatch.StartNew();
        try
        {
            await RunStepsAsync(feed);
        }
        finally
        {
            Duration = stopwatch.Elapsed;
        }
    }

    private async Task RunStepsAsync(PackedFeedFixture feed)
    {
        var framework = $"--framework={Framework}";
        if (!await StepAsync("install", null, null, "new", "install", $"Compose.Templates::{feed.Version}", "--add-source", feed.Feed)
            || !await StepAsync("new compose-plugin", null, null, "new", "compose-plugin", "-n", TemplateFixture.PluginName, "-o", ".", framework))
        {
            return;
        }

        // net10.0: the host, then `dotnet add reference`; net8.0: the host's --plugin option writes the reference.
        var host = Framework == "net8.0"
            ? await StepAsync("new compose-host", null, null, "new", "compose-host", "-n", TemplateFixture.HostName, framework, "--plugin", $"../{TemplateFixture.PluginName}/{TemplateFixture.PluginName}.csproj")
            : await StepAsync("new compose-host", null, null, "new", "compose-host", "-n", TemplateFixture.HostName, framework)
              && await StepAsync("add reference", null, null, "add", HostProject, "reference", Path.Combine(PluginDirectory, TemplateFixture.PluginName + ".csproj"));
        if (!host
            || !await StepAsync("build", null, null, "build", HostProject, "-p:TreatWarningsAsErrors=true")
            || !await StepAsync("test", null, null, ["test", TestsDirectory, "-p:TreatWarningsAsErrors=true", .. TestArguments])
            || !await StepAsync("publish aot", null, null, "publish", HostProject, "-c", "Release", "-r", AotPublishFixture.RuntimeIdentifier, "-o", AotDirectory))
        {
            return;
        }

        if (PublishesSelfContained)
        {
            await StepAsync(
                "publish self-contained", null, null,
                "publish", HostProject, "-c", "Release", "-r", AotPublishFixture.RuntimeIdentifier, "--self-contained", "-p:PublishAot=false", "-o", SelfContainedDirectory);
        }
    }

    private async Task<bool> StepAsync(string step, IReadOnlyDictionary<string, string>? environment, string? workingDirectory, params string[] arguments)
    {
        var result = await Workspace.DotNetAsync(environment, workingDirectory, arguments);
        lock (_steps)
        {
            _steps.Add((step, result));
        }

        return result.ExitCode == 0;
    }

    private static string Executable(string directory) => Path.Combine(directory, OperatingSystem.IsWindows() ? TemplateFixture.HostName + ".exe" : TemplateFixture.HostName);
}
