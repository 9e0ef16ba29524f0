using System.Diagnostics;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace Compose.EndToEnd.Tests.Infrastructure;

/// <summary>
/// Headless Chromium driven through Selenium: Debian's <c>chromium</c> and <c>chromium-driver</c> packages (installed by
/// .ci/run), both named by path so Selenium Manager never looks for, or downloads, a driver or a browser. Chromium
/// is started so that it reaches nothing but loopback: no background networking, component updates, sync or first-run
/// work, and every host name except 127.0.0.1 resolves to nothing (without these it sends background DNS lookups:
/// under strace, headless Chromium on about:blank for 15 s connected to the DNS resolver 32 times without the flags
/// and made no network connection at all with them, only the D-Bus socket).
/// </summary>
public sealed class Chromium : IDisposable
{
    /// <summary>The flags every session starts with (beside a private profile folder and the window size).</summary>
    public static readonly IReadOnlyList<string> Arguments =
    [
        "--headless=new",
        "--no-sandbox", // the tests run as root in CI, where Chromium's sandbox refuses to start
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-default-apps",
        "--disable-extensions",
        "--disable-dev-shm-usage", // containers have a small /dev/shm
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    ];

    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);
    private readonly TempDirectory _profile;

    private Chromium(ChromeDriver driver, TempDirectory profile)
    {
        Driver = driver;
        _profile = profile;
    }

    /// <summary>Gets the WebDriver session.</summary>
    public ChromeDriver Driver { get; }

    /// <summary>
    /// Gets the browser binary: <c>COMPOSE_CHROMIUM</c> if set, else Debian's <c>/usr/bin/chromium</c>.
    /// </summary>
    public static string BrowserPath => Environment.GetEnvironmentVariable("COMPOSE_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    /// <summary>Gets the driver binary: <c>COMPOSE_CHROMEDRIVER</c> if set, else Debian's <c>/usr/bin/chromedriver</c>.</summary>
    public static string DriverPath => Environment.GetEnvironmentVariable("COMPOSE_CHROMEDRIVER") is { Length: > 0 } path ? path : "/usr/bin/chromedriver";

    /// <summary>
    /// Starts a session with a fresh profile. Fails (never skips) when a binary is missing, so a CI machine without
    /// Chromium fails the run rather than passing it without the browser tests.
    /// </summary>
    public static Chromium Start()
    {
        foreach (var (what, path) in new[] { ("Chromium", BrowserPath), ("ChromeDriver", DriverPath) })
        {
            Assert.True(
                File.Exists(path),
                $"{what} is not installed at {path}: install Debian's chromium and chromium-driver packages (.ci/run does), "
                + "or point COMPOSE_CHROMIUM and COMPOSE_CHROMEDRIVER at a matching browser and driver.");
        }

        var profile = new TempDirectory("chromium-profile");
        try
        {
            var options = new ChromeOptions { BinaryLocation = BrowserPath };
            options.AddArguments(Arguments);
            options.AddArguments($"--user-data-dir={profile.Path}", "--window-size=1024,768");

            // goog:loggingPrefs: the console messages (and failed resource loads) become readable as the "browser" log.
            options.SetLoggingPreference(LogType.Browser, LogLevel.All);
            var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(DriverPath)!, Path.GetFileName(DriverPath));
            service.SuppressInitialDiagnosticInformation = true;
            service.HideCommandPromptWindow = true;
            return new Chromium(new ChromeDriver(service, options, CommandTimeout), profile);
        }
        catch
        {
            profile.Dispose();
            throw;
        }
    }

    /// <summary>Gets the browser console messages logged since the last call (the driver hands each one out once).</summary>
    public IReadOnlyList<LogEntry> TakeConsole() => Driver.Manage().Logs.GetLog(LogType.Browser);

    /// <summary>
    /// Polls <c>document.body.dataset.state</c> until it is no longer <paramref name="initial"/> (or missing), at most
    /// <paramref name="timeout"/>; returns the new state. The page sets it when it is done, so nothing waits on time.
    /// </summary>
    public string WaitForState(string initial, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var state = Driver.ExecuteScript("return document.body ? document.body.dataset.state : null;") as string;
            if (state is not null && state != initial)
            {
                return state;
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"The page at {Driver.Url} stayed '{state ?? "(no state)"}' for {timeout.TotalSeconds:F0} s:{Environment.NewLine}{Driver.PageSource}");
            }

            Thread.Sleep(50);
        }
    }

    /// <summary>Saves a PNG of the viewport to <paramref name="path"/> (folders created).</summary>
    public void SaveScreenshot(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        Driver.GetScreenshot().SaveAsFile(path);
    }

    /// <summary>Ends the session, the browser and the driver, and removes the profile.</summary>
    public void Dispose()
    {
        try
        {
            Driver.Quit();
        }
        finally
        {
            Driver.Dispose();
            _profile.Dispose();
        }
    }
}
