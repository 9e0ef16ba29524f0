using System.ComponentModel;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Compose.Hosting;

/// <summary>
/// The server plugins composed into one application at build time. The Compose generator writes the one subclass,
/// <c>Compose.Generated.ComposedServerPlugins</c>; infrastructure for that code, not for hand-written subclasses.
/// </summary>
/// <remarks>
/// <para>
/// The descriptors come as one UTF-8 constant (<see cref="Table"/>) decoded once, and the plugins are created by one
/// <c>switch</c> over their index (<see cref="CreatePlugin"/>). Start-up cost is then flat in the number of plugins:
/// a generated array of descriptor objects and one factory delegate per plugin made the just-in-time compiler
/// compile one very large static constructor and one method per plugin (about 0.2 ms per plugin at start-up, see
/// <c>docs/benchmarks.md</c>).
/// </para>
/// <para>
/// <see cref="Table"/> holds one record per plugin, in dependency order (a plugin after the plugins it depends on, ties
/// by id), each ended by U+001E; a record has ten fields, each ended by U+001F: id, name, description, assembly name,
/// assembly version, environments (comma-separated), entry script, web assets path, flags (<c>ExitAsync</c> when the
/// plugin implements <see cref="IServerPlugin.ExitAsync"/>) and dependencies (comma-separated ids).
/// An empty name, description, entry script or web assets path means none.
/// </para>
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public abstract class ServerPluginSet
{
    /// <summary>The byte that ends each field of a <see cref="Table"/> record (U+001F, the ASCII unit separator).</summary>
    private const byte FieldSeparator = 0x1F;

    /// <summary>The byte that ends each <see cref="Table"/> record (U+001E, the ASCII record separator).</summary>
    private const byte RecordSeparator = 0x1E;

    private const int FieldCount = 10;
    private static ReadOnlySpan<byte> ExitAsyncFlag => "ExitAsync"u8;

    private ServerPluginRegistration[]? _registrations;

    /// <summary>Gets the descriptors of the composed plugins, in dependency order (ties by id).</summary>
    /// <exception cref="InvalidOperationException">The generated table is malformed (the application was built by a different Compose version than it runs with).</exception>
    public IReadOnlyList<ServerPluginDescriptor> Descriptors => Array.ConvertAll(Registrations, r => r.Descriptor);

    /// <summary>Gets the composed plugins with their descriptors, decoded from <see cref="Table"/> on first use.</summary>
    internal ServerPluginRegistration[] Registrations
    {
        get
        {
            if (Volatile.Read(ref _registrations) is { } registrations)
            {
                return registrations;
            }

            Interlocked.CompareExchange(ref _registrations, Decode(), null);
            return _registrations;
        }
    }

    /// <summary>Gets the descriptor table: UTF-8, one record per plugin in dependency order (ties by id) (the format is in the remarks of <see cref="ServerPluginSet"/>).</summary>
    protected abstract ReadOnlySpan<byte> Table { get; }

    /// <summary>Returns the class of the plugin at <paramref name="index"/> (its position in <see cref="Table"/>).</summary>
    /// <param name="index">The plugin's position in dependency order (ties by id), from 0.</param>
    /// <returns>The plugin class, registered in dependency injection as a singleton.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> names no plugin.</exception>
    protected internal abstract Type GetPluginType(int index);

    /// <summary>Calls the public constructor of the plugin at <paramref name="index"/>, resolving each parameter from <paramref name="services"/>.</summary>
    /// <param name="index">The plugin's position in dependency order (ties by id), from 0.</param>
    /// <param name="services">The application's root service provider.</param>
    /// <returns>The new plugin instance.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> names no plugin.</exception>
    /// <exception cref="InvalidOperationException">A required constructor parameter has no registered service.</exception>
    protected internal abstract IServerPlugin CreatePlugin(int index, IServiceProvider services);

    /// <summary>
    /// Returns the constructor parameters of the plugin at <paramref name="index"/> that are resolved from dependency
    /// injection (not its own context or the service provider), so start-up can check them before any
    /// <c>InitAsync</c> runs.
    /// </summary>
    /// <param name="index">The plugin's position in dependency order (ties by id), from 0.</param>
    /// <returns>The parameters, in declaration order; empty when there are none.</returns>
    protected internal virtual ServerPluginParameter[] GetConstructorParameters(int index) => [];

    /// <summary>
    /// Calls the static <c>ConfigureServices(IServiceCollection, IConfiguration)</c> of the plugin at
    /// <paramref name="index"/>, if it declares one; does nothing otherwise.
    /// </summary>
    /// <param name="index">The plugin's position in dependency order (ties by id), from 0.</param>
    /// <param name="services">The application's services.</param>
    /// <param name="configuration">The plugin's own configuration section, <c>Compose:Plugins:{id}</c>.</param>
    protected internal virtual void ConfigureServices(int index, IServiceCollection services, IConfiguration configuration)
    {
    }

    private ServerPluginRegistration[] Decode()
    {
        var table = Table;
        var registrations = new List<ServerPluginRegistration>();
        Span<int> ends = stackalloc int[FieldCount];

        // Plugins of one assembly share its name and version: one string instance each.
        var shared = new HashSet<string>(StringComparer.Ordinal);
        while (!table.IsEmpty)
        {
            var length = table.IndexOf(RecordSeparator);
            if (length < 0)
            {
                throw Malformed(registrations.Count, "its last record is not ended by U+001E");
            }

            var record = table[..length];
            table = table[(length + 1)..];

            // Ten fields, each ended by U+001F, and nothing after the last.
            var rest = record;
            for (var field = 0; field < FieldCount; field++)
            {
                var end = rest.IndexOf(FieldSeparator);
                if (end < 0)
                {
                    throw Malformed(registrations.Count, $"a record does not have {FieldCount} fields");
                }

                ends[field] = record.Length - rest.Length + end;
                rest = rest[(end + 1)..];
            }

            if (!rest.IsEmpty)
            {
                throw Malformed(registrations.Count, $"a record does not have {FieldCount} fields");
            }

            var index = registrations.Count;
            var environments = Field(record, ends, 5);
            var descriptor = new ServerPluginDescriptor(
                id: Field(record, ends, 0),
                name: Field(record, ends, 1),
                description: Field(record, ends, 2),
                pluginType: GetPluginType(index),
                assemblyName: Share(shared, Field(record, ends, 3)),
                version: Share(shared, Field(record, ends, 4)),
                environments: environments.Length == 0 ? null : environments.Split(','),
                entryScript: Field(record, ends, 6),
                webAssetsPath: Field(record, ends, 7),
                dependsOn: Field(record, ends, 9) is { Length: > 0 } dependencies ? dependencies.Split(',') : null);
            registrations.Add(new ServerPluginRegistration(this, index, descriptor, hasExitAsync: Slice(record, ends, 8).SequenceEqual(ExitAsyncFlag)));
        }

        return [.. registrations];
    }

    private static ReadOnlySpan<byte> Slice(ReadOnlySpan<byte> record, scoped ReadOnlySpan<int> ends, int field)
    {
        var start = field == 0 ? 0 : ends[field - 1] + 1;
        return record[start..ends[field]];
    }

    private static string Field(ReadOnlySpan<byte> record, scoped ReadOnlySpan<int> ends, int field)
        => Slice(record, ends, field) is { IsEmpty: false } bytes ? Encoding.UTF8.GetString(bytes) : string.Empty;

    private static string Share(HashSet<string> shared, string value)
    {
        if (shared.TryGetValue(value, out var existing))
        {
            return existing;
        }

        shared.Add(value);
        return value;
    }

    private static InvalidOperationException Malformed(int record, string problem)
        => new($"The composed server plugin table is malformed at record {record}: {problem}. The application was probably built with a different Compose version than the Compose.Abstractions it runs with; rebuild it.");
}

/// <summary>One constructor parameter of a composed plugin, as the generated code resolves it. Infrastructure for generated code.</summary>
/// <param name="Name">The parameter's name.</param>
/// <param name="Type">The service type it is resolved as.</param>
/// <param name="ServiceKey">Its <c>[FromKeyedServices]</c> key, or null.</param>
/// <param name="IsOptional">Whether it defaults to null, so a missing service is allowed.</param>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly record struct ServerPluginParameter(string Name, Type Type, object? ServiceKey, bool IsOptional);
