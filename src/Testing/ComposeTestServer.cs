namespace Compose.Testing;

/// <summary>
/// Starts the host that HTTP tests run against: in process (<see cref="ComposeTestHost"/>) by default, or the Native
/// AOT publish of a host (<see cref="NativeTestHost"/>) when the environment variable <see cref="NativeHostVariable"/>
/// names one. The same tests, written against <see cref="IComposeTestServer"/>, then run both ways:
/// <c>dotnet test</c>, and <c>COMPOSE_TEST_NATIVE_HOST=path/to/MyHost.csproj dotnet test</c>.
/// </summary>
public static class ComposeTestServer
{
    /// <summary>
    /// The environment variable that switches <see cref="StartAsync"/> to a native host: <c>COMPOSE_TEST_NATIVE_HOST</c>.
    /// Its value is the path of a host project (<c>.csproj</c>, published with Native AOT once per test run) or of a
    /// native executable published before (for a CI step that publishes once for several test projects).
    /// </summary>
    public const string NativeHostVariable = "COMPOSE_TEST_NATIVE_HOST";

    /// <summary>Gets whether <see cref="NativeHostVariable"/> is set, so <see cref="StartAsync"/> starts a native host.</summary>
    public static bool IsNative => !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(NativeHostVariable));

    /// <summary>
    /// Starts the host for the tests: the native host named by <see cref="NativeHostVariable"/> with
    /// <paramref name="settings"/> on its command line, or else a <see cref="ComposeTestHost"/> of the test project's
    /// composition with <paramref name="settings"/> and <paramref name="configure"/> applied.
    /// </summary>
    /// <param name="settings">Configuration values both kinds of host get, for example <c>Compose:Plugins:notes:MaxNotes</c>.</param>
    /// <param name="configure">More set-up of the in-process host only (services, plugin selection); not applied to a native host, which is a finished build.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The started host; dispose it.</returns>
    /// <exception cref="InvalidOperationException">The host failed to start or, for a project, to publish.</exception>
    /// <exception cref="FileNotFoundException"><see cref="NativeHostVariable"/> names a file that does not exist.</exception>
    public static async Task<IComposeTestServer> StartAsync(
        IReadOnlyDictionary<string, string?>? settings = null,
        Action<ComposeTestHost>? configure = null,
        CancellationToken cancellationToken = default)
    {
        var native = Environment.GetEnvironmentVariable(NativeHostVariable);
        if (!string.IsNullOrWhiteSpace(native))
        {
            var publish = native.EndsWith("proj", StringComparison.OrdinalIgnoreCase)
                ? await NativeAotPublish.PublishAsync(native).WaitAsync(cancellationToken).ConfigureAwait(false)
                : NativeAotPublish.FromExecutable(native);
            var options = new NativeTestHostOptions();
            foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            {
                options.Settings[key] = value;
            }

            return await publish.StartAsync(options, cancellationToken).ConfigureAwait(false);
        }

        var host = new ComposeTestHost();
        try
        {
            foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            {
                host.WithSetting(key, value);
            }

            configure?.Invoke(host);
            await host.StartAsync(cancellationToken).ConfigureAwait(false);
            return host;
        }
        catch
        {
            await host.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}
