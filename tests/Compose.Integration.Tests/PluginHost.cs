using System.Collections.Concurrent;
using Compose.Generated;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Compose.Integration.Tests;

/// <summary>
/// A real Kestrel host on 127.0.0.1 composing this assembly's plugins (and the referenced sample plugins)
/// through the generated AddServerPlugins/MapServerPlugins, with only the named plugins switched on.
/// </summary>
public sealed class PluginHost : IAsyncDisposable
{
    private PluginHost(WebApplication app, CapturingLoggerProvider logs)
    {
        App = app;
        Logs = logs;
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        Client = new HttpClient { BaseAddress = new Uri(address) };
    }

    public WebApplication App { get; }

    public HttpClient Client { get; }

    public CapturingLoggerProvider Logs { get; }

    public ServerPluginCatalog Catalog => App.Services.GetRequiredService<ServerPluginCatalog>();

    /// <summary>Starts a host with only <paramref name="plugins"/> enabled.</summary>
    public static async Task<PluginHost> StartAsync(
        string[] plugins,
        IDictionary<string, string?>? settings = null,
        Action<ComposeOptions>? configure = null,
        Action<RouteGroupBuilder>? conventions = null,
        Action<WebApplicationBuilder>? configureBuilder = null,
        Action<WebApplication>? configureApp = null,
        string environment = "Testing")
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var descriptor in ComposedServerPlugins.Instance.Descriptors)
        {
            values[$"Compose:Plugins:{descriptor.Id}:Enabled"] = plugins.Contains(descriptor.Id) ? "true" : "false";
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = environment });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration.AddInMemoryCollection(values);
        var logs = new CapturingLoggerProvider();
        builder.Logging.ClearProviders().AddProvider(logs).SetMinimumLevel(LogLevel.Information);
        builder.Services.AddServerPlugins(builder.Configuration, configure ?? (_ => { }));
        configureBuilder?.Invoke(builder);

        var app = builder.Build();
        configureApp?.Invoke(app);
        var group = app.MapServerPlugins();
        conventions?.Invoke(group);
        await app.StartAsync();
        return new PluginHost(app, logs);
    }

    /// <summary>Changes one configuration value and reloads configuration, as a changed appsettings.json would.</summary>
    public Task ReloadAsync(string key, string? value)
    {
        App.Configuration[key] = value;
        ((IConfigurationRoot)App.Configuration).Reload();
        return Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}

/// <summary>Keeps every log line with the scope values active when it was written, so tests can assert what was reported.</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider, ISupportExternalScope
{
    private IExternalScopeProvider? _scopes;

    public ConcurrentQueue<(LogLevel Level, string Category, string Message, Exception? Exception, IReadOnlyDictionary<string, object?> Scope)> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    private IReadOnlyDictionary<string, object?> CurrentScope()
    {
        var values = new Dictionary<string, object?>(StringComparer.Ordinal);
        _scopes?.ForEachScope(
            static (scope, values) =>
            {
                if (scope is IEnumerable<KeyValuePair<string, object?>> pairs)
                {
                    foreach (var (key, value) in pairs)
                    {
                        values[key] = value;
                    }
                }
            },
            values);
        return values;
    }

    public IEnumerable<string> Messages(LogLevel level) => Entries.Where(e => e.Level == level).Select(e => e.Message);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => owner._scopes?.Push(state);

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => owner.Entries.Enqueue((logLevel, category, formatter(state, exception), exception, owner.CurrentScope()));
    }
}
