using System.Net;
using Compose.EndToEnd.Tests.Infrastructure;
using OpenQA.Selenium;
using Xunit.Abstractions;

namespace Compose.EndToEnd.Tests;

/// <summary>
/// The frontend pairing in a real browser (issue 17): headless Chromium opens the sample host's page at <c>/</c>, which
/// reads the plugin catalog, imports the hello-world plugin's entry script from <c>/plugins/hello-world/</c>, and that
/// script calls <c>/api/plugins/hello-world/hello</c> with a relative URL and renders the answer. Against the JIT build
/// of samples/Host and its Native AOT binary (the collection's one publish); each run asserts the rendered text and an
/// error-free console, and saves a screenshot under the test output folder (<c>screenshots/</c>).
/// </summary>
[Trait("Category", "Browser")]
[Collection(EndToEndCollection.Name)]
public sealed class BrowserTests(AotPublishFixture publish, BrowserTests.JitHostBuild jit, ITestOutputHelper output) : IClassFixture<BrowserTests.JitHostBuild>
{
    private const string Greeting = "Hello from server plugin!";

    /// <summary>How long the page may take from navigation to its final state (it needs three requests to this host).</summary>
    private static readonly TimeSpan PagePatience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task JitHost_PageLoadsTheHelloWorldEntryScript_WhichCallsItsApi()
    {
        using var data = new TempDirectory("browser-data");
        await using var host = await jit.StartAsync(data.Path);
        await host.DiagnoseAsync(() => AssertPairingAsync(host, "jit"));
    }

    [Fact]
    [Trait("Category", "Aot")]
    public async Task NativeHost_PageLoadsTheHelloWorldEntryScript_WhichCallsItsApi()
    {
        publish.EnsurePublished();
        using var data = new TempDirectory("browser-data");
        await using var host = await RunningServer.StartAsync(
            publish.NativeHost, [$"--Compose:DataRoot={data.Path}"], publish.PublishDirectory, "/health");
        await host.DiagnoseAsync(() => AssertPairingAsync(host, "aot"));
    }

    [Fact]
    public async Task JitHost_WithAnApiKey_PageSaysItCannotAuthenticate_AndTheConsoleShowsThe401()
    {
        using var data = new TempDirectory("browser-data");
        await using var host = await jit.StartAsync(data.Path, "--Auth:ApiKey=browser-s3cret");
        await host.DiagnoseAsync(async () =>
        {
            // The page itself is public (it holds no secret); what it calls stays protected.
            var page = (await host.GetAsync("/")).AssertStatus(HttpStatusCode.OK);
            Assert.Equal("text/html", page.MediaType);
            (await host.GetAsync("/api/plugins")).AssertStatus(HttpStatusCode.Unauthorized);

            using var browser = Chromium.Start();
            browser.Driver.Navigate().GoToUrl(new Uri(host.BaseAddress, "/"));
            var state = browser.WaitForState("loading", PagePatience);
            browser.SaveScreenshot(ScreenshotPath("jit-api-key"));

            Assert.Equal("error", state);
            var error = browser.Driver.FindElement(By.Id("error")).Text;
            Assert.StartsWith("The plugin catalog answered 401: this host requires an API key (Auth:ApiKey)", error, StringComparison.Ordinal);
            Assert.Empty(browser.Driver.FindElements(By.CssSelector("#output p")));

            // The console capture works: Chromium logs the refused request as an error.
            var console = browser.TakeConsole();
            Log(console);
            Assert.Contains(console, entry => entry.Level == LogLevel.Severe && entry.Message.Contains("401", StringComparison.Ordinal));
        });
    }

    private async Task AssertPairingAsync(RunningServer host, string name)
    {
        using var browser = Chromium.Start();
        browser.Driver.Navigate().GoToUrl(new Uri(host.BaseAddress, "/"));
        var state = browser.WaitForState("loading", PagePatience);
        var screenshot = ScreenshotPath(name);
        browser.SaveScreenshot(screenshot);
        output.WriteLine($"Screenshot: {screenshot}");
        var console = browser.TakeConsole();
        Log(console);

        Assert.True(state == "ready", $"The page ended in state '{state}': {browser.Driver.FindElement(By.Id("error")).Text}");

        // What the entry script rendered from its API's answer: "{message} ({local time})".
        var rendered = Assert.Single(browser.Driver.FindElements(By.CssSelector("#output p"))).Text;
        Assert.StartsWith(Greeting + " (", rendered, StringComparison.Ordinal);
        Assert.EndsWith(")", rendered, StringComparison.Ordinal);

        // The catalog the page read, rendered as a list: every sample plugin, hello-world running.
        var plugins = browser.Driver.FindElements(By.CssSelector("#plugins li")).Select(item => item.Text).ToList();
        Assert.Contains("Hello World (hello-world): Running", plugins);
        Assert.Contains(plugins, item => item.Contains("(ticker)", StringComparison.Ordinal));

        // Same origin: the script was loaded from this host, and it called its API with a relative URL.
        var entries = browser.Driver.ExecuteScript("return performance.getEntriesByType('resource').map(e => e.name);") as IEnumerable<object>;
        var resources = (entries ?? []).Select(entry => entry.ToString()!).ToList();
        var origin = host.BaseAddress.GetLeftPart(UriPartial.Authority);
        Assert.Contains($"{origin}/plugins/hello-world/index.js", resources);
        Assert.Contains($"{origin}/api/plugins/hello-world/hello", resources);
        Assert.All(resources, resource => Assert.StartsWith(origin + "/", resource, StringComparison.Ordinal));

        Assert.True(
            console.All(entry => entry.Level < LogLevel.Severe),
            $"The browser console has errors:{Environment.NewLine}{string.Join(Environment.NewLine, console)}");
    }

    private void Log(IEnumerable<LogEntry> console)
    {
        foreach (var entry in console)
        {
            output.WriteLine($"console {entry.Level}: {entry.Message}");
        }
    }

    private static string ScreenshotPath(string name) => Path.Combine(AppContext.BaseDirectory, "screenshots", $"browser-{name}.png");

    /// <summary>samples/Host built (Release, JIT) once for the class, run from its output folder.</summary>
    public sealed class JitHostBuild : IAsyncLifetime
    {
        private ProcessResult? _build;

        public static string OutputDirectory => Path.Combine(RepoPaths.Root, "samples", "Host", "bin", "Release", "net10.0");

        public async Task InitializeAsync()
            => _build = await DotNet.RunAsync(RepoPaths.Root, "build", RepoPaths.HostProject, "-c", "Release");

        /// <summary>Starts the built host on a free loopback port, its plugin data under <paramref name="dataRoot"/>.</summary>
        public Task<RunningServer> StartAsync(string dataRoot, params string[] arguments)
        {
            Assert.True(_build is { ExitCode: 0 }, _build?.Describe() ?? "samples/Host was not built.");
            var executable = Path.Combine(OutputDirectory, OperatingSystem.IsWindows() ? "Compose.Samples.Host.exe" : "Compose.Samples.Host");
            return RunningServer.StartAsync(executable, [$"--Compose:DataRoot={dataRoot}", .. arguments], OutputDirectory, "/health");
        }

        public Task DisposeAsync() => Task.CompletedTask;
    }
}
