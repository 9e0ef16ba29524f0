using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Compose.Analyzers;

/// <summary>
/// Luker's "Register Routes Synchronously", checked by the compiler: in a server plugin's <c>InitAsync</c>, no route
/// registration through the router, an alias of it (a copy, a <c>MapGroup</c> group, a builder returned by
/// <c>Map*</c>) or something holding it (a wrapper, a collection, a tuple, a delegate, a lazy sequence) on a path
/// reachable after an await (CMP0008), and nothing that lets the router outlive the call: stored where it survives
/// InitAsync, or captured by code that runs later and registers routes (CMP0009). Works on the control flow graph,
/// not on text order, and follows every method of the compilation the router reaches; where it cannot follow it
/// (too deep, no body, a delegate or library callback it cannot see) it warns (CMP0014) instead of accepting.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class RouteRegistrationAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(RouteDiagnostics.RouteAfterAwait, RouteDiagnostics.RouterEscapes, RouteDiagnostics.AnalysisGaveUp);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(static start =>
        {
            var symbols = KnownSymbols.Create(start.Compilation);
            if (symbols is null)
            {
                return; // The compilation does not reference Compose.Abstractions.
            }

            // One cache per compilation: each helper is summarised once, however many plugins call it.
            var cache = new RouteAnalysisCache(start.Compilation, symbols);
            start.RegisterOperationBlockAction(block => AnalyzeBlock(block, cache));
        });
    }

    private static void AnalyzeBlock(OperationBlockAnalysisContext context, RouteAnalysisCache cache)
    {
        var symbols = cache.Symbols;
        if (context.OwningSymbol is not IMethodSymbol method
            || method.Parameters.Length != 2
            || !symbols.IsRouterType(method.Parameters[0].Type)
            || !symbols.IsInitAsync(method))
        {
            return;
        }

        // The method body: an IMethodBodyOperation, or its block, depending on the compiler version.
        var body = context.OperationBlocks.FirstOrDefault(o => o is IMethodBodyOperation or IBlockOperation);
        if (body is null)
        {
            return;
        }

        var graph = context.GetControlFlowGraph(body);
        var flow = new RouterFlow(cache, context.CancellationToken);
        var findings = flow.AnalyzeMethod(graph, method.Parameters[0]);
        var plugin = method.ContainingType.Name;
        foreach (var finding in findings)
        {
            // Through a helper: the call in InitAsync is where the plugin author acts, the helper's line is what it reaches.
            var additional = finding.Inner is { IsInSource: true } inner && inner != finding.Location ? [inner] : Array.Empty<Location>();
            context.ReportDiagnostic(Diagnostic.Create(finding.Descriptor, finding.Location, additional, plugin, finding.Detail));
        }
    }
}

/// <summary>The symbols the analysis needs, looked up once per compilation.</summary>
internal sealed class KnownSymbols
{
    private static readonly ImmutableHashSet<string> DeferringTypes = ImmutableHashSet.Create(
        "System.Threading.Tasks.Task",
        "System.Threading.Tasks.Task`1",
        "System.Threading.Tasks.TaskFactory",
        "System.Threading.Tasks.TaskFactory`1",
        "System.Threading.Tasks.ValueTask",
        "System.Threading.ThreadPool",
        "System.Threading.Timer",
        "System.Threading.Thread",
        "System.Threading.CancellationToken",
        "System.Threading.SynchronizationContext",
        "System.Timers.Timer",
        "System.Lazy`1",
        "System.Runtime.CompilerServices.TaskAwaiter",
        "Microsoft.AspNetCore.Builder.EndpointRouteBuilderExtensions",
        "Microsoft.AspNetCore.Builder.RouteHandlerBuilder",
        "Microsoft.AspNetCore.Http.RequestDelegate");

    private KnownSymbols(INamedTypeSymbol plugin, IMethodSymbol initAsync, INamedTypeSymbol routeBuilder, INamedTypeSymbol? conventionBuilder, INamedTypeSymbol? delegateType)
    {
        Plugin = plugin;
        InitAsync = initAsync;
        RouteBuilder = routeBuilder;
        ConventionBuilder = conventionBuilder;
        DelegateType = delegateType;
    }

    public INamedTypeSymbol Plugin { get; }

    public IMethodSymbol InitAsync { get; }

    public INamedTypeSymbol RouteBuilder { get; }

    public INamedTypeSymbol? ConventionBuilder { get; }

    public INamedTypeSymbol? DelegateType { get; }

    public static KnownSymbols? Create(Compilation compilation)
    {
        var plugin = compilation.GetTypeByMetadataName("Compose.IServerPlugin");
        var routeBuilder = compilation.GetTypeByMetadataName("Microsoft.AspNetCore.Routing.IEndpointRouteBuilder");
        var initAsync = plugin?.GetMembers("InitAsync").OfType<IMethodSymbol>().FirstOrDefault();
        return plugin is null || routeBuilder is null || initAsync is null
            ? null
            : new KnownSymbols(
                plugin,
                initAsync,
                routeBuilder,
                compilation.GetTypeByMetadataName("Microsoft.AspNetCore.Builder.IEndpointConventionBuilder"),
                compilation.GetTypeByMetadataName("System.Delegate"));
    }

    public bool IsInitAsync(IMethodSymbol method)
    {
        var type = method.ContainingType;
        if (type is null || !type.AllInterfaces.Contains(Plugin, SymbolEqualityComparer.Default))
        {
            return false;
        }

        var implementation = type.FindImplementationForInterfaceMember(InitAsync);
        return SymbolEqualityComparer.Default.Equals(implementation?.OriginalDefinition, method.OriginalDefinition);
    }

    /// <summary>Whether values of the type can carry the router: route builders, groups and convention builders.</summary>
    public bool IsRouterType(ITypeSymbol? type)
    {
        if (type is null)
        {
            return false;
        }

        return Is(type, RouteBuilder) || (ConventionBuilder is not null && Is(type, ConventionBuilder));

        static bool Is(ITypeSymbol type, INamedTypeSymbol target)
            => SymbolEqualityComparer.Default.Equals(type, target) || type.AllInterfaces.Contains(target, SymbolEqualityComparer.Default);
    }

    /// <summary>Whether a callback passed to this method may run after the call returns.</summary>
    public bool IsDeferring(IMethodSymbol method, IParameterSymbol? parameter)
    {
        var container = method.ContainingType?.OriginalDefinition;
        if (container is not null && DeferringTypes.Contains(MetadataName(container)))
        {
            return true;
        }

        // Route handlers (Map*(..., Delegate handler)) and any parameter typed Delegate or RequestDelegate run per request.
        var parameterType = parameter?.Type;
        if (parameterType is not null
            && ((DelegateType is not null && SymbolEqualityComparer.Default.Equals(parameterType, DelegateType))
                || parameterType.Name == "RequestDelegate"))
        {
            return true;
        }

        // ASP.NET Core and Microsoft.Extensions keep the callbacks they are given: endpoint filters, conventions, OpenAPI
        // transformers, DI factories, change tokens and options monitors all run them after InitAsync returns.
        var ns = container?.ContainingNamespace?.ToDisplayString() ?? string.Empty;
        return (ns.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal) || ns.StartsWith("Microsoft.Extensions", StringComparison.Ordinal))
               && (parameterType is null || parameterType.TypeKind == TypeKind.Delegate);
    }

    private static string MetadataName(INamedTypeSymbol type)
    {
        var ns = type.ContainingNamespace?.ToDisplayString();
        return string.IsNullOrEmpty(ns) || ns == "<global namespace>" ? type.MetadataName : ns + "." + type.MetadataName;
    }
}
