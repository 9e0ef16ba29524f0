using Microsoft.Extensions.DependencyInjection;

namespace Compose.Hosting;

/// <summary>
/// What the compiler cannot see, checked before any <c>InitAsync</c> runs: every constructor parameter of a plugin
/// (the generated code lists their types and keys) is looked up in the final service collection. A parameter no
/// registration provides, or a scoped service injected into the plugin (a singleton: a captive dependency, which
/// Carter's users keep meeting, Carter issues 279, 288, 293, 338), fails that plugin with a message that says what to
/// do, instead of a bare "No service for type" later. One lookup per parameter.
/// </summary>
internal sealed class ConstructorCheck(IServiceProvider services, IEnumerable<ServiceDescriptor> registrations, ServerPluginCatalog catalog)
{
    private readonly IServiceProviderIsService? _isService = services.GetService<IServiceProviderIsService>();
    private Dictionary<(Type, object?), ServiceLifetime>? _lifetimes;

    /// <summary>Returns why the plugin cannot be constructed, or null when every parameter is provided.</summary>
    public string? Problem(ServerPluginRegistration registration)
    {
        var parameters = registration.ConstructorParameters();
        if (parameters.Length == 0 || _isService is null)
        {
            return null;
        }

        var id = registration.Descriptor.Id;
        foreach (var parameter in parameters)
        {
            var provided = parameter.ServiceKey is null
                ? _isService.IsService(parameter.Type)
                : _isService is IServiceProviderIsKeyedService keyed && keyed.IsKeyedService(parameter.Type, parameter.ServiceKey);
            if (!provided)
            {
                if (parameter.IsOptional)
                {
                    continue;
                }

                var key = parameter.ServiceKey is null ? string.Empty : $" with the key '{parameter.ServiceKey}'";
                return $"constructor parameter '{parameter.Name}' of plugin '{id}' needs {Display(parameter.Type)}{key}, which no service registration provides{DisabledHint(parameter.Type, registration.Descriptor)}";
            }

            if (Lifetime(parameter.Type, parameter.ServiceKey) == ServiceLifetime.Scoped)
            {
                return $"constructor parameter '{parameter.Name}' of plugin '{id}' needs {Display(parameter.Type)}, a scoped service; a plugin is a singleton, so it would keep one scope's instance for the life of the host (a captive dependency). "
                       + "Inject IServiceScopeFactory instead and create a scope per unit of work, or resolve it from the request's services in a handler";
            }
        }

        return null;
    }

    /// <summary>
    /// When the type comes from another plugin package whose plugins are switched off, their ConfigureServices (which
    /// most likely registers it) did not run: say so.
    /// </summary>
    private string DisabledHint(Type type, ServerPluginDescriptor dependent)
    {
        var assembly = type.Assembly.GetName().Name;
        if (string.Equals(assembly, dependent.AssemblyName, StringComparison.Ordinal))
        {
            return string.Empty;
        }

        var disabled = catalog
            .Where(e => e.LifecycleState == ServerPluginState.Disabled && string.Equals(e.Descriptor.AssemblyName, assembly, StringComparison.Ordinal))
            .Select(e => e.Descriptor.Id)
            .ToList();
        if (disabled.Count == 0)
        {
            return string.Empty;
        }

        var names = string.Join(", ", disabled.Select(id => $"'{id}'"));
        return $"; it comes from {assembly}, whose plugin {names} is disabled, so its ConfigureServices did not run: switch it on, or declare DependsOn = [\"{disabled[0]}\"] on '{dependent.Id}' so that it is switched off with it";
    }

    /// <summary>Names a type as C# does (<c>Ns.IRepository&lt;Ns.Note&gt;</c>), not as <see cref="Type.FullName"/> does for generics.</summary>
    internal static string Display(Type type)
    {
        if (!type.IsConstructedGenericType)
        {
            return type.FullName ?? type.Name;
        }

        var definition = type.GetGenericTypeDefinition().FullName ?? type.Name;
        var tick = definition.IndexOf('`', StringComparison.Ordinal);
        var name = tick < 0 ? definition : definition[..tick];
        return $"{name}<{string.Join(", ", type.GenericTypeArguments.Select(Display))}>";
    }

    private ServiceLifetime? Lifetime(Type type, object? key)
    {
        _lifetimes ??= BuildLifetimes();
        if (_lifetimes.TryGetValue((type, key), out var lifetime))
        {
            return lifetime;
        }

        return type.IsConstructedGenericType && _lifetimes.TryGetValue((type.GetGenericTypeDefinition(), key), out var open) ? open : null;
    }

    private Dictionary<(Type, object?), ServiceLifetime> BuildLifetimes()
    {
        // The last registration of a service type is the one the container resolves.
        var lifetimes = new Dictionary<(Type, object?), ServiceLifetime>();
        foreach (var descriptor in registrations)
        {
            lifetimes[(descriptor.ServiceType, descriptor.ServiceKey)] = descriptor.Lifetime;
        }

        return lifetimes;
    }
}
