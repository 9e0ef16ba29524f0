using System.Collections.Concurrent;
using System.ComponentModel;
using System.Reflection;
using Compose.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Compose.Testing;

/// <summary>
/// An in-process ASP.NET Core host that composes server plugins for a test, in the manner of
/// <c>WebApplicationFactory</c>: configure it, then <see cref="CreateClient"/> (which starts it) or
/// <see cref="StartAsync"/>, and dispose it at the end of the test. Each instance is its own host, with its own
/// configuration, services and temporary data root, so tests do not share state.
/// </summary>
/// <remarks>
/// <para>
/// The host is <c>WebApplication.CreateSlimBuilder</c> with the generated <c>AddServerPlugins</c> and
/// <c>MapServerPlugins</c> of the test project, the plugin catalog at <c>GET {RoutePrefix}</c> and the health checks
/// at <c>GET /health</c>, like the <c>compose-host</c> template. It runs on <see cref="TestServer"/> (no socket) unless
/// <see cref="UseKestrel"/> asks for a real Kestrel server on <c>127.0.0.1</c> and a free port.
/// </para>
/// <para>
/// A test project is an executable (Microsoft.NET.Test.Sdk makes it one), so the Compose generator makes it a host
/// that composes every plugin it references, directly or through other projects and packages, and any
/// <c>[ServerPlugin]</c> class declared in the test project itself. The Compose.Testing package adds one source file
/// that hands that composition to this class when the test assembly loads; <see cref="WithPlugins"/> switches on
/// only the named plugins.
/// </para>
/// <para>
/// Configuration, lowest precedence first: the test project's <c>appsettings.json</c> and
/// <c>appsettings.{Environment}.json</c> (when copied to the output), environment variables, then the settings of
/// this class (<c>Compose:DataRoot</c>, the plugin selection, then <see cref="WithSetting"/>), so a test's own values
/// always win.
/// </para>
/// </remarks>
public sealed class ComposeTestHost : IComposeTestServer, IDisposable
{
    /// <summary>The path the health checks are mapped to: <c>/health</c>.</summary>
    public const string HealthPath = "/health";

    private static readonly ConcurrentDictionary<Assembly, ServerPluginSet> Registered = new();

    private readonly ServerPluginSet _plugins;
    private readonly Dictionary<string, string?> _settings = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<Action<IServiceCollection>> _services = [];
    private readonly List<Action<ComposeOptions>> _options = [];
    private readonly List<Action<WebApplicationBuilder>> _builder = [];
    private readonly List<Action<WebApplication>> _app = [];
    private readonly List<Action<RouteGroupBuilder>> _routes = [];
    private readonly List<HttpClient> _clients = [];
    private readonly object _lock = new();
    private string[]? _only;
    private string _environment = "Development";
    private bool _kestrel;
    private Action<string>? _logSink;
    private LogLevel _minimumLevel = LogLevel.Information;
    private bool _mapCatalogAndHealth = true;
    private Task? _start;
    private WebApplication? _application;
    private Uri? _baseAddress;
    private int _disposed;

    /// <summary>
    /// Creates a host for the plugins composed into the test project: every plugin it references and declares.
    /// </summary>
    /// <exception cref="InvalidOperationException">
    /// No composition is registered: the test project does not reference the Compose.Testing package, is not an
    /// executable, or set <c>ComposeTestingRegisterPlugins</c> or <c>ComposeHost</c> to false; or more than one
    /// assembly registered one. Pass <c>Compose.Generated.ComposedServerPlugins.Instance</c> to
    /// <see cref="ComposeTestHost(ServerPluginSet)"/> then.
    /// </exception>
    public ComposeTestHost()
        : this(FindRegistered())
    {
    }

    /// <summary>Creates a host for <paramref name="plugins"/>, normally <c>Compose.Generated.ComposedServerPlugins.Instance</c> of the test project.</summary>
    /// <param name="plugins">The composition the Compose generator wrote into a host assembly.</param>
    /// <exception cref="ArgumentNullException"><paramref name="plugins"/> is null.</exception>
    public ComposeTestHost(ServerPluginSet plugins)
    {
        ArgumentNullException.ThrowIfNull(plugins);
        _plugins = plugins;
        DataRoot = TemporaryFolder.Create("compose-test");
    }

    /// <summary>
    /// Gets the ids of every plugin composed into the test project (enabled or not), in id order. Known before the
    /// host starts.
    /// </summary>
    public IReadOnlyList<string> ComposedPluginIds => _plugins.Descriptors.Select(d => d.Id).ToList();

    /// <summary>
    /// Gets the temporary folder set as <c>Compose:DataRoot</c>: each plugin's data directory is
    /// <c>{DataRoot}/{id}</c>. Created by the constructor, deleted with everything in it on dispose.
    /// </summary>
    public string DataRoot { get; }

    /// <summary>Gets the host's log entries: every level from <see cref="WithMinimumLogLevel"/> up (Information by default).</summary>
    public ComposeTestLogs Logs { get; } = new();

    /// <summary>Gets whether the host has started and not been disposed.</summary>
    public bool IsStarted => _application is not null && Volatile.Read(ref _disposed) == 0;

    /// <summary>Gets the address the host serves: <c>http://localhost/</c> on TestServer, <c>http://127.0.0.1:{port}/</c> on Kestrel. Starts the host.</summary>
    /// <exception cref="InvalidOperationException">The host failed to start.</exception>
    public Uri BaseAddress
    {
        get
        {
            EnsureStarted();
            return _baseAddress!;
        }
    }

    /// <summary>Gets the application (its services, configuration, lifetime). Starts the host.</summary>
    public WebApplication Application
    {
        get
        {
            EnsureStarted();
            return _application!;
        }
    }

    /// <summary>Gets the application's root service provider. Starts the host.</summary>
    public IServiceProvider Services => Application.Services;

    /// <summary>Gets the application's configuration, every override applied. Starts the host.</summary>
    public IConfiguration Configuration => Application.Configuration;

    /// <summary>Gets the plugin catalog: each composed plugin's descriptor and state. Starts the host.</summary>
    public ServerPluginCatalog Catalog => Services.GetRequiredService<ServerPluginCatalog>();

    /// <summary>Gets the in-memory server, or <see langword="null"/> on Kestrel. Starts the host.</summary>
    public TestServer? Server => _kestrel ? null : Application.GetTestServer();

    /// <summary>Hands the composition of a test assembly to <see cref="ComposeTestHost()"/>; called by the source file the package adds to the test project.</summary>
    /// <param name="assembly">The test assembly.</param>
    /// <param name="plugins">Its <c>Compose.Generated.ComposedServerPlugins.Instance</c>.</param>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static void RegisterComposedPlugins(Assembly assembly, ServerPluginSet plugins)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        ArgumentNullException.ThrowIfNull(plugins);
        Registered[assembly] = plugins;
    }

    /// <summary>
    /// Switches on only the plugins <paramref name="ids"/>; every other composed plugin is switched off
    /// (<c>Compose:Plugins:{id}:Enabled=false</c>). Without this call every composed plugin is on, as in a host.
    /// </summary>
    /// <param name="ids">Plugin ids (case-insensitive, as configuration keys are).</param>
    /// <returns>This host.</returns>
    /// <exception cref="ArgumentException">An id is not composed into the test project; the message lists those that are.</exception>
    /// <exception cref="InvalidOperationException">The host has already started.</exception>
    public ComposeTestHost WithPlugins(params string[] ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        EnsureNotStarted();
        var composed = ComposedPluginIds;
        var unknown = ids.Where(id => !composed.Contains(id, StringComparer.OrdinalIgnoreCase)).ToList();
        if (unknown.Count > 0)
        {
            throw new ArgumentException(
                $"No composed plugin has the id {string.Join(", ", unknown.Select(id => $"'{id}'"))}. The test project composes: {(composed.Count == 0 ? "no plugin (reference a plugin project or package)" : string.Join(", ", composed))}.",
                nameof(ids));
        }

        _only = ids;
        return this;
    }

    /// <summary>Sets one configuration value (for example <c>Compose:RoutePrefix</c>), above every other source.</summary>
    /// <param name="key">The key, sections separated by <c>:</c>.</param>
    /// <param name="value">The value; <see langword="null"/> hides a value set by a lower source.</param>
    /// <returns>This host.</returns>
    /// <exception cref="InvalidOperationException">The host has already started (use <see cref="Configuration"/> and a reload then).</exception>
    public ComposeTestHost WithSetting(string key, string? value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        EnsureNotStarted();
        _settings[key] = value;
        return this;
    }

    /// <summary>Sets one value of a plugin's own section, <c>Compose:Plugins:{pluginId}:{key}</c> (what its <c>ConfigureServices</c> reads).</summary>
    /// <param name="pluginId">The plugin id.</param>
    /// <param name="key">The key inside the plugin's section.</param>
    /// <param name="value">The value.</param>
    /// <returns>This host.</returns>
    /// <exception cref="InvalidOperationException">The host has already started.</exception>
    public ComposeTestHost WithPluginSetting(string pluginId, string key, string? value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pluginId);
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        return WithSetting($"{ComposeOptions.SectionName}:Plugins:{pluginId}:{key}", value);
    }

    /// <summary>Sets the environment name (default <c>Development</c>, as <c>WebApplicationFactory</c>); plugins scoped to other environments stay off.</summary>
    /// <param name="environmentName">For example <c>Production</c>.</param>
    /// <returns>This host.</returns>
    /// <exception cref="InvalidOperationException">The host has already started.</exception>
    public ComposeTestHost WithEnvironment(string environmentName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(environmentName);
        EnsureNotStarted();
        _environment = environmentName;
        return this;
    }

    /// <summary>
    /// Changes the services after <c>AddServerPlugins</c> registered the plugins and their <c>ConfigureServices</c>
    /// ran, so a registration made here replaces a plugin's (the last registration of a service wins), like
    /// <c>ConfigureTestServices</c>.
    /// </summary>
    /// <param name="configure">The change.</param>
    /// <returns>This host.</returns>
    /// <exception cref="InvalidOperationException">The host has already started.</exception>
    public ComposeTestHost WithServices(Action<IServiceCollection> configure) => Add(_services, configure);

    /// <summary>Changes the <see cref="ComposeOptions"/> after they were read from configuration (the <c>configure</c> argument of <c>AddServerPlugins</c>).</summary>
    /// <param name="configure">The change.</param>
    /// <returns>This host.</returns>
    /// <exception cref="InvalidOperationException">The host has already started.</exception>
    public ComposeTestHost WithOptions(Action<ComposeOptions> configure) => Add(_options, configure);

    /// <summary>Changes the builder before the plugins are registered (logging, Kestrel options, more configuration sources).</summary>
    /// <param name="configure">The change.</param>
    /// <returns>This host.</returns>
    /// <exception cref="InvalidOperationException">The host has already started.</exception>
    public ComposeTestHost ConfigureBuilder(Action<WebApplicationBuilder> configure) => Add(_builder, configure);

    /// <summary>Adds middleware or endpoints to the application before the plugins are mapped (authentication, CORS, WebSockets).</summary>
    /// <param name="configure">The change.</param>
    /// <returns>This host.</returns>
    /// <exception cref="InvalidOperationException">The host has already started.</exception>
    public ComposeTestHost ConfigureApp(Action<WebApplication> configure) => Add(_app, configure);

    /// <summary>Adds conventions to the route group of every plugin route (what <c>MapServerPlugins()</c> returns), for example <c>RequireAuthorization()</c>.</summary>
    /// <param name="configure">The change.</param>
    /// <returns>This host.</returns>
    /// <exception cref="InvalidOperationException">The host has already started.</exception>
    public ComposeTestHost ConfigurePluginRoutes(Action<RouteGroupBuilder> configure) => Add(_routes, configure);

    /// <summary>Leaves out the catalog (<c>GET {RoutePrefix}</c>) and the health checks (<c>GET /health</c>) that the host maps by default.</summary>
    /// <returns>This host.</returns>
    /// <exception cref="InvalidOperationException">The host has already started.</exception>
    public ComposeTestHost WithoutCatalogAndHealth()
    {
        EnsureNotStarted();
        _mapCatalogAndHealth = false;
        return this;
    }

    /// <summary>Runs the host on a real Kestrel server on <c>http://127.0.0.1</c> and a free port instead of TestServer (for clients that need a socket).</summary>
    /// <returns>This host.</returns>
    /// <exception cref="InvalidOperationException">The host has already started.</exception>
    public ComposeTestHost UseKestrel()
    {
        EnsureNotStarted();
        _kestrel = true;
        return this;
    }

    /// <summary>Also writes each log line to <paramref name="sink"/>, for example xUnit's <c>ITestOutputHelper.WriteLine</c>.</summary>
    /// <param name="sink">Receives <see cref="ComposeLogEntry.ToString"/> of each entry, on the logging thread.</param>
    /// <returns>This host.</returns>
    /// <exception cref="InvalidOperationException">The host has already started.</exception>
    public ComposeTestHost WithLogSink(Action<string> sink)
    {
        ArgumentNullException.ThrowIfNull(sink);
        EnsureNotStarted();
        _logSink = sink;
        return this;
    }

    /// <summary>Sets the lowest level captured in <see cref="Logs"/> (default <see cref="LogLevel.Information"/>).</summary>
    /// <param name="level">The level.</param>
    /// <returns>This host.</returns>
    /// <exception cref="InvalidOperationException">The host has already started.</exception>
    public ComposeTestHost WithMinimumLogLevel(LogLevel level)
    {
        EnsureNotStarted();
        _minimumLevel = level;
        return this;
    }

    /// <summary>
    /// Builds and starts the host: registers the plugins, maps them, and awaits their initialisation (as a host's
    /// start-up does). Calling it again returns the same start.
    /// </summary>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>A task that completes when the host serves requests.</returns>
    /// <exception cref="InvalidOperationException">
    /// A plugin's <c>ConfigureServices</c> threw, a configuration value is malformed, or (with <c>Compose:FailFast</c>)
    /// a plugin failed to initialise. The exception comes from the runtime and names the plugin.
    /// </exception>
    /// <exception cref="ObjectDisposedException">The host was disposed.</exception>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        lock (_lock)
        {
            return _start ??= StartCoreAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Creates a client for the host, starting it first if needed (blocking, as <c>WebApplicationFactory</c> does;
    /// await <see cref="StartAsync"/> first to start asynchronously). The host disposes its clients on dispose.
    /// </summary>
    /// <returns>A client whose base address is <see cref="BaseAddress"/>.</returns>
    /// <exception cref="InvalidOperationException">The host failed to start.</exception>
    /// <exception cref="ObjectDisposedException">The host was disposed.</exception>
    public HttpClient CreateClient()
    {
        EnsureStarted();
        var client = _kestrel
            ? new HttpClient { BaseAddress = _baseAddress }
            : _application!.GetTestClient();
        lock (_lock)
        {
            _clients.Add(client);
        }

        return client;
    }

    /// <summary>Gets the catalog entry of plugin <paramref name="id"/>. Starts the host.</summary>
    /// <param name="id">The plugin id.</param>
    /// <returns>Its entry: descriptor, state, error and route count.</returns>
    /// <exception cref="ArgumentException">No composed plugin has that id.</exception>
    public ServerPluginEntry Plugin(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        return Catalog.Find(id) ?? throw new ArgumentException($"No composed plugin has the id '{id}'. Composed: {string.Join(", ", ComposedPluginIds)}.", nameof(id));
    }

    /// <summary>Gets plugin <paramref name="id"/>'s data directory, <c>{DataRoot}/{id}</c>, where its <c>IServerPluginContext.DataDirectory</c> points (it may not exist until the plugin writes).</summary>
    /// <param name="id">The plugin id.</param>
    /// <returns>The full path.</returns>
    public string DataDirectory(string id)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        return Path.Combine(DataRoot, id);
    }

    /// <summary>Stops the host: the plugins' <c>ExitAsync</c> run, in reverse order. Does nothing when it never started.</summary>
    /// <param name="cancellationToken">Ends the graceful stop early.</param>
    /// <returns>A task that completes when the host has stopped.</returns>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (_application is { } application)
        {
            await application.StopAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Stops and disposes the host and its clients, then deletes <see cref="DataRoot"/>.</summary>
    /// <returns>A task that completes when everything is released.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        lock (_lock)
        {
            foreach (var client in _clients)
            {
                client.Dispose();
            }

            _clients.Clear();
        }

        var application = _application;
        if (application is null && _start is { } start)
        {
            try
            {
                await start.ConfigureAwait(false);
            }
            catch (Exception)
            {
                // A start that failed was reported to its caller and cleaned up after itself.
            }

            application = _application;
        }

        if (application is not null)
        {
            try
            {
                await application.StopAsync().ConfigureAwait(false);
            }
            finally
            {
                await application.DisposeAsync().ConfigureAwait(false);
            }
        }

        TemporaryFolder.Delete(DataRoot);
    }

    /// <summary>Disposes the host synchronously (prefer <see cref="DisposeAsync"/>, which <c>await using</c> calls).</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private static ServerPluginSet FindRegistered()
    {
        var registered = Registered.ToArray();
        return registered.Length switch
        {
            1 => registered[0].Value,
            0 => throw new InvalidOperationException(
                "No composed server plugins are registered for ComposeTestHost. Reference the Compose.Testing package from the test project "
                + "(an executable, as Microsoft.NET.Test.Sdk makes it) and build it with the Compose generator (it comes with Compose.Abstractions), "
                + "or pass the composition yourself: new ComposeTestHost(Compose.Generated.ComposedServerPlugins.Instance)."),
            _ => throw new InvalidOperationException(
                $"More than one assembly registered composed server plugins ({string.Join(", ", registered.Select(r => r.Key.GetName().Name))}); "
                + "pass the one to use: new ComposeTestHost(Compose.Generated.ComposedServerPlugins.Instance)."),
        };
    }

    private ComposeTestHost Add<T>(List<T> list, T configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        EnsureNotStarted();
        list.Add(configure);
        return this;
    }

    private void EnsureNotStarted()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_start is not null)
        {
            throw new InvalidOperationException("The host has already started: configure it before the first CreateClient, StartAsync, Services or BaseAddress.");
        }
    }

    private void EnsureStarted()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_application is not null && _start is { IsCompletedSuccessfully: true })
        {
            return;
        }

        StartAsync().GetAwaiter().GetResult();
    }

    private async Task StartCoreAsync(CancellationToken cancellationToken)
    {
        await Task.Yield(); // Run the start outside the caller's lock.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            EnvironmentName = _environment,
            ContentRootPath = AppContext.BaseDirectory,
            ApplicationName = _plugins.GetType().Assembly.GetName().Name,
        });

        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            [$"{ComposeOptions.SectionName}:{nameof(ComposeOptions.DataRoot)}"] = DataRoot,
        };
        if (_only is not null)
        {
            foreach (var id in ComposedPluginIds)
            {
                settings[$"{ComposeOptions.SectionName}:Plugins:{id}:Enabled"] = _only.Contains(id, StringComparer.OrdinalIgnoreCase) ? "true" : "false";
            }
        }

        foreach (var (key, value) in _settings)
        {
            settings[key] = value;
        }

        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.ClearProviders()
            .AddProvider(new CapturingLoggerProvider(Logs, _logSink))
            .SetMinimumLevel(_minimumLevel);
        if (_kestrel)
        {
            builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        }
        else
        {
            builder.WebHost.UseTestServer();
        }

        foreach (var configure in _builder)
        {
            configure(builder);
        }

        var configureOptions = _options.ToArray();
        ServerPluginComposition.AddServerPlugins(builder.Services, builder.Configuration, _plugins, options =>
        {
            foreach (var configure in configureOptions)
            {
                configure(options);
            }
        });
        foreach (var configure in _services)
        {
            configure(builder.Services);
        }

        var application = builder.Build();
        try
        {
            foreach (var configure in _app)
            {
                configure(application);
            }

            var group = ServerPluginComposition.MapServerPlugins(application);
            foreach (var configure in _routes)
            {
                configure(group);
            }

            if (_mapCatalogAndHealth)
            {
                application.MapServerPluginCatalog();
                application.MapHealthChecks(HealthPath);
            }

            await application.StartAsync(cancellationToken).ConfigureAwait(false);
            _baseAddress = _kestrel ? KestrelAddress(application) : application.GetTestServer().BaseAddress;
            _application = application;
        }
        catch
        {
            await application.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static Uri KestrelAddress(WebApplication application)
    {
        var addresses = application.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses;
        var address = addresses.FirstOrDefault(a => a.StartsWith("http://127.0.0.1:", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"Kestrel did not listen on http://127.0.0.1 (addresses: {string.Join(", ", addresses)}).");
        return new Uri(address.EndsWith('/') ? address : address + "/");
    }
}
