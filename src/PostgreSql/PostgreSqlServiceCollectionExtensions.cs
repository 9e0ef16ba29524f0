using Compose.Store;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Compose.PostgreSql;

/// <summary>Switches the plugin store, cluster events and run-once leases of every plugin to PostgreSQL.</summary>
public static class PostgreSqlServiceCollectionExtensions
{
    /// <summary>The value of <c>Compose:Store:Provider</c> that selects this backend.</summary>
    public const string ProviderName = "PostgreSql";

    /// <summary>
    /// Uses PostgreSQL for every plugin's store, events and run-once leases. The schema is created at start-up
    /// (idempotently); if PostgreSQL is down then, the host still starts and the schema is created on first use.
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="connectionString">The Npgsql connection string.</param>
    /// <param name="configure">Adjusts the other settings.</param>
    /// <returns><paramref name="services"/>.</returns>
    /// <exception cref="ArgumentException">The connection string is empty (other settings are checked when the backend is created).</exception>
    public static IServiceCollection AddComposePostgreSqlStore(this IServiceCollection services, string connectionString, Action<PostgreSqlStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var options = new PostgreSqlStoreOptions { ConnectionString = connectionString };
        configure?.Invoke(options);
        return Register(services, options);
    }

    /// <summary>
    /// Reads <c>Compose:Store</c>: with <c>Provider</c> = <c>PostgreSql</c> (case-insensitive) uses PostgreSQL with
    /// <c>ConnectionString</c> and the optional <c>Schema</c>, <c>ReplicaId</c>, <c>LeaseCheckInterval</c>, <c>MaxAttempts</c>,
    /// <c>RetryDelay</c> and <c>CommandTimeoutSeconds</c>; with no provider, or <c>Files</c>, leaves the embedded default.
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="configuration">The host's configuration (its root, holding <c>Compose:Store</c>).</param>
    /// <returns><paramref name="services"/>.</returns>
    /// <exception cref="InvalidOperationException">The provider is unknown, or a setting does not parse.</exception>
    public static IServiceCollection AddComposeStore(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection("Compose:Store");
        var provider = section["Provider"];
        if (string.IsNullOrEmpty(provider) || string.Equals(provider, "Files", StringComparison.OrdinalIgnoreCase))
        {
            return services;
        }

        if (!string.Equals(provider, ProviderName, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"Compose:Store:Provider '{provider}' is unknown; use '{ProviderName}' or 'Files' (the default).");
        }

        var options = new PostgreSqlStoreOptions { ConnectionString = section["ConnectionString"] ?? "" };
        options.Schema = section["Schema"] ?? options.Schema;
        options.ReplicaId = section["ReplicaId"] is { Length: > 0 } replicaId ? replicaId : null;
        options.LeaseCheckInterval = Read(section, "LeaseCheckInterval", TimeSpan.Parse, options.LeaseCheckInterval);
        options.RetryDelay = Read(section, "RetryDelay", TimeSpan.Parse, options.RetryDelay);
        options.MaxAttempts = Read(section, "MaxAttempts", int.Parse, options.MaxAttempts);
        options.CommandTimeoutSeconds = Read(section, "CommandTimeoutSeconds", int.Parse, options.CommandTimeoutSeconds);
        try
        {
            options.Validate();
        }
        catch (ArgumentException ex)
        {
            throw new InvalidOperationException(ex.Message, ex);
        }

        return Register(services, options);
    }

    private static T Read<T>(IConfigurationSection section, string name, Func<string, IFormatProvider, T> parse, T fallback)
    {
        var text = section[name];
        if (string.IsNullOrEmpty(text))
        {
            return fallback;
        }

        try
        {
            return parse(text, System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is FormatException or OverflowException)
        {
            throw new InvalidOperationException($"Compose:Store:{name} '{text}' does not parse: {ex.Message}", ex);
        }
    }

    private static IServiceCollection Register(IServiceCollection services, PostgreSqlStoreOptions options)
    {
        options.Validate();
        services.AddSingleton(sp =>
        {
            // A replica id set in code wins; else Compose:Store:ReplicaId of the host's configuration, as without this backend.
            if (options.ReplicaId is null && sp.GetService<IConfiguration>()?[PluginStoreBackend.ReplicaIdKey] is { Length: > 0 } configured)
            {
                options.ReplicaId = configured;
            }

            return new PostgreSqlStoreBackend(options, sp.GetService<ILoggerFactory>());
        });
        services.AddSingleton<PluginStoreBackend>(sp => sp.GetRequiredService<PostgreSqlStoreBackend>());
        services.AddSingleton<IHostedService>(sp => new SchemaStartup(sp.GetRequiredService<PostgreSqlStoreBackend>()));
        return services;
    }

    /// <summary>Creates the schema at start-up; never fails the start (the store creates it on first use too).</summary>
    private sealed class SchemaStartup(PostgreSqlStoreBackend backend) : IHostedService
    {
        public async Task StartAsync(CancellationToken cancellationToken)
        {
            try
            {
                await backend.EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (PluginStoreUnavailableException ex)
            {
                Log.SchemaDeferred(backend.Logger, ex.Message, ex);
            }
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
