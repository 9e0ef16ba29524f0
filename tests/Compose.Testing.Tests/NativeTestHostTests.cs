using System.Diagnostics;
using System.Net;
using System.Reflection;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Compose.Testing.Tests;

/// <summary>
/// The process side of the kit, <see cref="NativeTestHost"/>, run against the apphost of samples/Host built with this
/// test project: the same start (free port on 127.0.0.1, command-line settings, readiness on /health), log parsing and
/// stop by pid as for a Native AOT publish, without the minutes a publish takes. The AOT publish itself is exercised
/// by the template tests in Compose.EndToEnd.Tests.
/// </summary>
public sealed class NativeTestHostTests
{
    private static readonly string SampleHost = NativeAotPublish.FindAbove(Path.Combine(
        "samples", "Host", "bin",
        typeof(NativeTestHostTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration,
        "net10.0",
        OperatingSystem.IsWindows() ? "Compose.Samples.Host.exe" : "Compose.Samples.Host"));

    [Fact]
    public async Task StartsOnAFreeLoopbackPort_WithSettings_ParsesLogLines_AndStopsGracefullyByPid()
    {
        var options = new NativeTestHostOptions();
        options.Settings["Compose:Plugins:ticker:Enabled"] = "false";
        var host = await NativeAotPublish.FromExecutable(SampleHost).StartAsync(options);
        string dataRoot;
        int pid;
        try
        {
            Assert.Equal("127.0.0.1", host.BaseAddress.Host);
            using var client = host.CreateClient();
            Assert.Equal("Healthy", await client.GetStringAsync("health"));
            Assert.Contains("Hello from server plugin!", await client.GetStringAsync("api/plugins/hello-world/hello"), StringComparison.Ordinal);
            using (var catalog = JsonDocument.Parse(await client.GetStringAsync("api/plugins")))
            {
                var ticker = catalog.RootElement.GetProperty("plugins").EnumerateArray().Single(p => p.GetProperty("id").GetString() == "ticker");
                Assert.Equal("Disabled", ticker.GetProperty("state").GetString());
            }

            // The console logger's single-line format, parsed into level, category, event id and message.
            var loaded = await host.Logs.WaitForAsync("Loaded plugin: Hello World (hello-world)", TimeSpan.FromSeconds(5));
            Assert.Equal(LogLevel.Information, loaded.Level);
            Assert.Equal("Compose.ServerPlugins", loaded.Category);
            Assert.Equal("Loaded plugin: Hello World (hello-world)", loaded.Message);
            Assert.True(Directory.Exists(host.DataRoot));
            dataRoot = host.DataRoot;
            pid = host.ProcessId;
            Assert.False(host.HasExited);
        }
        finally
        {
            await host.DisposeAsync();
        }

        // SIGTERM: the host ran its shutdown rather than being killed.
        Assert.True(host.HasExited);
        Assert.NotNull(host.ExitCode);
        if (!OperatingSystem.IsWindows())
        {
            Assert.True(host.Logs.Contains("Application is shutting down..."), host.Logs.Tail());
        }

        Assert.Throws<ArgumentException>(() => Process.GetProcessById(pid));
        Assert.False(Directory.Exists(dataRoot), $"{dataRoot} survived the dispose");
        Assert.Throws<ObjectDisposedException>(() => host.CreateClient());
    }

    [Fact]
    public async Task AHostThatExitsBeforeItIsReady_FailsTheStart_WithItsOutput()
    {
        var options = new NativeTestHostOptions();
        options.Settings["Compose:ExitTimeout"] = "not-a-timespan";

        var error = await Assert.ThrowsAnyAsync<Exception>(() => NativeAotPublish.FromExecutable(SampleHost).StartAsync(options));

        Assert.IsType<InvalidOperationException>(error);
        Assert.Contains("before it answered /health", error.Message, StringComparison.Ordinal);
        Assert.Contains("ExitTimeout", error.Message, StringComparison.Ordinal); // the host's own error, from its output
    }

    [Fact]
    public async Task AReadinessPathThatNeverAnswers2xx_TimesOut_AndTheProcessIsStopped()
    {
        var options = new NativeTestHostOptions { ReadinessPath = "/api/plugins/no-such-plugin/x", StartTimeout = TimeSpan.FromSeconds(3) };

        var error = await Assert.ThrowsAsync<TimeoutException>(() => NativeAotPublish.FromExecutable(SampleHost).StartAsync(options));

        Assert.Contains("404", error.Message, StringComparison.Ordinal);
        Assert.Contains("Loaded plugin", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromExecutable_AMissingFile_Throws()
    {
        Assert.Throws<FileNotFoundException>(() => NativeAotPublish.FromExecutable(Path.Combine(Path.GetTempPath(), "no-such-host-" + Guid.NewGuid().ToString("N"))));
        Assert.Throws<FileNotFoundException>(() => NativeAotPublish.FindAbove("no/such/file.csproj"));
    }
}
