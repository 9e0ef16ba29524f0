using System.ComponentModel;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Compose.Hosting;

/// <summary>
/// The server plugins composed into one application at build time. The Compose generator writes the one subclass,
/// <c>Compose.Generated.ComposedServerPlugins</c>; infrastructure for that code, not for hand-written subclasses.
/// </summary>
/// <remarks>
/// <para>
/// Every member takes the plugin's index: its position in dependency order (a plugin after the plugins it depends on,
/// ties by id), from 0 to <see cref="Count"/> - 1. The generated overrides are one <c>switch</c> over that index each:
/// <see cref="GetDescriptor"/> is a <c>new ServerPluginDescriptor(...)</c> call per plugin, <see cref="CreatePlugin"/>
/// a constructor call. The descriptor's constructor is the one definition of what the build tells the runtime about a
/// plugin: the compiler checks the generated calls against it, and C# literals carry every string exactly.
/// </para>
/// <para>
/// Start-up cost stays flat in the number of plugins: one method per member, not one per plugin (a factory
/// delegate per plugin and an array of descriptors in a static constructor cost the just-in-time compiler about
/// 0.2 ms per plugin, see <c>docs/benchmarks-investigation.md</c>). The descriptors are created once, on first use.
/// </para>
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public abstract class ServerPluginSet
{
    private ServerPluginRegistration[]? _registrations;

    /// <summary>Gets the descriptors of the composed plugins, in dependency order (ties by id).</summary>
    /// <exception cref="InvalidOperationException">The set is inconsistent: a negative <see cref="Count"/>, or a null descriptor.</exception>
    public IReadOnlyList<ServerPluginDescriptor> Descriptors => Array.ConvertAll(Registrations, r => r.Descriptor);

    /// <summary>Gets the composed plugins with their descriptors, created on first use.</summary>
    internal ServerPluginRegistration[] Registrations
    {
        get
        {
            if (Volatile.Read(ref _registrations) is { } registrations)
            {
                return registrations;
            }

            Interlocked.CompareExchange(ref _registrations, CreateRegistrations(), null);
            return _registrations;
        }
    }

    /// <summary>Gets the number of composed plugins.</summary>
    protected internal abstract int Count { get; }

    /// <summary>Returns the descriptor of the plugin at <paramref name="index"/>; called once per plugin, on first use of the set.</summary>
    /// <param name="index">The plugin's position in dependency order (ties by id), from 0.</param>
    /// <returns>A new descriptor built from the build's compile-time constants.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> names no plugin.</exception>
    protected internal abstract ServerPluginDescriptor GetDescriptor(int index);

    /// <summary>Returns whether the plugin at <paramref name="index"/> implements <see cref="IServerPlugin.ExitAsync"/> itself (so shutdown calls it).</summary>
    /// <param name="index">The plugin's position in dependency order (ties by id), from 0.</param>
    /// <returns><see langword="true"/> when the plugin class declares its own <c>ExitAsync</c>; <see langword="false"/> by default.</returns>
    protected internal virtual bool HasExitAsync(int index) => false;

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

    private ServerPluginRegistration[] CreateRegistrations()
    {
        var count = Count;
        if (count < 0)
        {
            throw new InvalidOperationException($"{GetType().FullName}.Count is {count}: a set of server plugins cannot have a negative count.");
        }

        var registrations = new ServerPluginRegistration[count];
        for (var index = 0; index < count; index++)
        {
            var descriptor = GetDescriptor(index)
                ?? throw new InvalidOperationException($"{GetType().FullName}.GetDescriptor({index}) returned null: every composed plugin needs a descriptor.");
            registrations[index] = new ServerPluginRegistration(this, index, descriptor, HasExitAsync(index));
        }

        return registrations;
    }
}

/// <summary>One constructor parameter of a composed plugin, as the generated code resolves it. Infrastructure for generated code.</summary>
/// <param name="Name">The parameter's name.</param>
/// <param name="Type">The service type it is resolved as.</param>
/// <param name="ServiceKey">Its <c>[FromKeyedServices]</c> key, or null.</param>
/// <param name="IsOptional">Whether it defaults to null, so a missing service is allowed.</param>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly record struct ServerPluginParameter(string Name, Type Type, object? ServiceKey, bool IsOptional);
