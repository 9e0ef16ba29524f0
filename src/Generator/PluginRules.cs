using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Compose.Generator;

/// <summary>One broken per-plugin rule: what to report and where. Lives only inside one analysis or parse call.</summary>
internal readonly record struct RuleViolation(
    DiagnosticDescriptor Descriptor,
    Location Location,
    ImmutableArray<object?> Arguments,
    ImmutableDictionary<string, string?>? Properties = null)
{
    public bool IsError => Descriptor.DefaultSeverity == DiagnosticSeverity.Error;

    public Diagnostic ToDiagnostic() => Diagnostic.Create(Descriptor, Location, Properties, Arguments.ToArray());
}

/// <summary>What <see cref="PluginRules.CheckClass"/> found about a plugin class, besides the broken rules.</summary>
internal sealed class PluginCheck
{
    public List<RuleViolation> Violations { get; } = new();

    /// <summary>Whether generated code can name the class (public, non-generic, nested only in public types).</summary>
    public bool IsReferenceable { get; set; } = true;

    /// <summary>
    /// Whether something the compiler itself reports (a type that cannot be found) keeps the class from being
    /// composed; Compose reports nothing about it, to add no cascade to the compiler's error.
    /// </summary>
    public bool HasCompilerErrors { get; set; }

    public EquatableArray<DependencyModel> Dependencies { get; set; } = EquatableArray<DependencyModel>.Empty;

    public bool HasConfigureServices { get; set; }

    public bool HasExitAsync { get; set; }

    /// <summary>Whether the class implements <c>IServerPlugin</c> (else CMP0004, and no ExitAsync near miss on top).</summary>
    public bool ImplementsInterface { get; set; }

    /// <summary>The ids of the broken error rules, distinct and sorted: what a manifest's <c>Errors</c> records.</summary>
    public IEnumerable<string> ErrorIds => Violations.Where(v => v.IsError).Select(v => v.Descriptor.Id).Distinct().OrderBy(id => id, StringComparer.Ordinal);

    public bool IsComposable => IsReferenceable && !HasCompilerErrors && !Violations.Any(v => v.IsError);
}

/// <summary>
/// The per-plugin rules, written once: the analyzers report their violations at the declarations, the generator
/// records the error ids in the plugin manifest (so a host refuses a plugin whose author suppressed them) and
/// re-checks referenced plugin classes with the same code. Nothing here throws on bad input, and nothing is
/// reported about a type the compiler could not resolve (the compiler already says so).
/// </summary>
internal static class PluginRules
{
    public const string ServerPluginAttributeName = "Compose.ServerPluginAttribute";
    public const string PluginInterfaceName = "Compose.IServerPlugin";
    private const string ServiceCollectionName = "Microsoft.Extensions.DependencyInjection.IServiceCollection";
    private const string ConfigurationName = "Microsoft.Extensions.Configuration.IConfiguration";
    private const string CancellationTokenName = "System.Threading.CancellationToken";
    private const string FromKeyedServicesName = "Microsoft.Extensions.DependencyInjection.FromKeyedServicesAttribute";

    /// <summary>The format used for type names in generated code: fully qualified, <c>global::</c>, no nullable marks.</summary>
    public static readonly SymbolDisplayFormat TypeFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .WithMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.EscapeKeywordIdentifiers | SymbolDisplayMiscellaneousOptions.UseSpecialTypes);

    /// <summary>The format used for plugin class names in messages and manifests: namespace-qualified, no <c>global::</c>.</summary>
    public static readonly SymbolDisplayFormat DisplayFormat = SymbolDisplayFormat.CSharpErrorMessageFormat;

    /// <summary>How a method is quoted in a message: <c>public static void ConfigureService(IServiceCollection services)</c>.</summary>
    private static readonly SymbolDisplayFormat MethodFormat = new(
        typeQualificationStyle: SymbolDisplayTypeQualificationStyle.NameOnly,
        genericsOptions: SymbolDisplayGenericsOptions.IncludeTypeParameters,
        memberOptions: SymbolDisplayMemberOptions.IncludeAccessibility | SymbolDisplayMemberOptions.IncludeModifiers | SymbolDisplayMemberOptions.IncludeType | SymbolDisplayMemberOptions.IncludeParameters,
        parameterOptions: SymbolDisplayParameterOptions.IncludeType | SymbolDisplayParameterOptions.IncludeName | SymbolDisplayParameterOptions.IncludeParamsRefOut,
        miscellaneousOptions: SymbolDisplayMiscellaneousOptions.UseSpecialTypes | SymbolDisplayMiscellaneousOptions.EscapeKeywordIdentifiers);

    /// <summary>The plugin id written in a <c>[ServerPlugin]</c> attribute, or null when it is missing or null.</summary>
    public static string? IdOf(AttributeData attribute)
        => attribute.ConstructorArguments.Length == 1 ? attribute.ConstructorArguments[0].Value as string : null;

    /// <summary>Whether the compiler could bind the attribute and its id argument (else the compiler reports it).</summary>
    public static bool IsBound(AttributeData attribute)
        => attribute.AttributeConstructor is not null
           && attribute.ConstructorArguments.Length == 1
           && attribute.ConstructorArguments[0].Kind != TypedConstantKind.Error;

    /// <summary>CMP0007: <c>[ServerPlugin]</c> on a struct, interface, enum or delegate.</summary>
    public static RuleViolation? CheckKind(INamedTypeSymbol type, AttributeData attribute, CancellationToken cancellationToken)
    {
        if (type.TypeKind == TypeKind.Class)
        {
            return null;
        }

        var location = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken).GetLocation() ?? FirstLocation(type);
        return new RuleViolation(ComposeDiagnostics.NotAClass, location, ImmutableArray.Create<object?>(Display(type), KindName(type)));
    }

    /// <summary>CMP0001: the id matches <c>^[a-z0-9_-]+$</c>; reported on the id argument, with a valid suggestion.</summary>
    public static RuleViolation? CheckId(INamedTypeSymbol type, AttributeData attribute, CancellationToken cancellationToken)
    {
        var id = IdOf(attribute);
        if (!IsBound(attribute) || PluginId.IsValid(id))
        {
            return null;
        }

        var syntax = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;
        var location = syntax?.ArgumentList?.Arguments.FirstOrDefault()?.Expression.GetLocation()
                       ?? syntax?.GetLocation()
                       ?? FirstLocation(type);
        var suggestion = PluginId.Suggest(id, type.Name);
        return new RuleViolation(
            ComposeDiagnostics.InvalidPluginId,
            location,
            ImmutableArray.Create<object?>(Display(type), id ?? string.Empty, suggestion),
            ImmutableDictionary<string, string?>.Empty.Add(DiagnosticIds.SuggestedIdProperty, suggestion));
    }

    /// <summary>
    /// The ids in <c>DependsOn</c> as written (null entries as empty strings), each with the location of its element
    /// in the attribute; empty when the property is not set.
    /// </summary>
    public static ImmutableArray<(string Id, Location? Location)> DependsOnOf(AttributeData attribute, CancellationToken cancellationToken)
        => ArrayEntriesOf(attribute, "DependsOn", cancellationToken);

    /// <summary>
    /// The strings of the array property <paramref name="property"/> of <c>[ServerPlugin]</c> as written (null entries as
    /// empty strings), each with the location of its element in the attribute; empty when the property is not set.
    /// </summary>
    private static ImmutableArray<(string Value, Location? Location)> ArrayEntriesOf(AttributeData attribute, string property, CancellationToken cancellationToken)
    {
        var value = attribute.NamedArguments.FirstOrDefault(a => a.Key == property).Value;
        if (value.Kind != TypedConstantKind.Array || value.IsNull)
        {
            return ImmutableArray<(string, Location?)>.Empty;
        }

        var syntax = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;
        var argument = syntax?.ArgumentList?.Arguments.FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == property);
        var elements = argument?.Expression switch
        {
            CollectionExpressionSyntax collection => collection.Elements.Select(e => e is ExpressionElementSyntax element ? element.Expression : null).ToList(),
            ArrayCreationExpressionSyntax array => array.Initializer?.Expressions.Select(e => (ExpressionSyntax?)e).ToList(),
            ImplicitArrayCreationExpressionSyntax array => array.Initializer.Expressions.Select(e => (ExpressionSyntax?)e).ToList(),
            _ => null,
        };
        var result = ImmutableArray.CreateBuilder<(string, Location?)>(value.Values.Length);
        for (var i = 0; i < value.Values.Length; i++)
        {
            var location = elements is not null && i < elements.Count && elements[i] is { } element ? element.GetLocation() : argument?.GetLocation();
            result.Add((value.Values[i].Value as string ?? string.Empty, location));
        }

        return result.MoveToImmutable();
    }

    /// <summary>CMP0015 to CMP0017 on the entries of <c>DependsOn</c>: a valid id, not the plugin's own, listed once.</summary>
    public static IEnumerable<RuleViolation> CheckDependsOn(INamedTypeSymbol type, AttributeData attribute, CancellationToken cancellationToken)
    {
        var own = IdOf(attribute);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (id, location) in DependsOnOf(attribute, cancellationToken))
        {
            var where = location ?? FirstLocation(type);
            var arguments = ImmutableArray.Create<object?>(Display(type), id);
            if (!PluginId.IsValid(id))
            {
                yield return new RuleViolation(ComposeDiagnostics.InvalidDependencyId, where, arguments);
            }
            else if (string.Equals(id, own, StringComparison.Ordinal))
            {
                yield return new RuleViolation(ComposeDiagnostics.SelfDependency, where, arguments);
            }
            else if (!seen.Add(id))
            {
                yield return new RuleViolation(ComposeDiagnostics.DuplicateDependency, where, arguments);
            }
        }
    }

    /// <summary>
    /// CMP0022 on the entries of <c>Environments</c>: each must reach a host unchanged through the comma-separated manifest
    /// and <c>Environments</c> setting, so it is not empty, has no comma and no leading or trailing white space.
    /// </summary>
    public static IEnumerable<RuleViolation> CheckEnvironments(INamedTypeSymbol type, AttributeData attribute, CancellationToken cancellationToken)
    {
        foreach (var (name, location) in ArrayEntriesOf(attribute, "Environments", cancellationToken))
        {
            var problem = name.Length == 0 || name.Trim().Length == 0 ? "is empty"
                : name.Contains(',') ? "contains a comma"
                : name.Trim().Length != name.Length ? "starts or ends with white space"
                : null;
            if (problem is not null)
            {
                yield return new RuleViolation(ComposeDiagnostics.InvalidEnvironmentName, location ?? FirstLocation(type), ImmutableArray.Create<object?>(Display(type), name, problem));
            }
        }
    }

    /// <summary>
    /// CMP0003 to CMP0006 and CMP0012 on a plugin class, declared in source or read from a reference; also collects
    /// what the generated code needs (constructor dependencies, whether ConfigureServices and ExitAsync exist).
    /// </summary>
    public static PluginCheck CheckClass(INamedTypeSymbol type, Compilation compilation, CancellationToken cancellationToken)
    {
        var check = new PluginCheck();
        var display = Display(type);
        CheckShape(type, display, check);
        cancellationToken.ThrowIfCancellationRequested();
        CheckInterface(type, display, compilation, check);
        CheckConstructor(type, display, check);
        cancellationToken.ThrowIfCancellationRequested();
        CheckConfigureServices(type, display, check);
        CheckNearMisses(type, display, check);
        return check;
    }

    /// <summary>
    /// The plugins that reuse an id taken by an earlier one, in (id, type name) order: each with the first plugin
    /// of its id. Shared by the CMP0002 analyzer and the generator's manifest.
    /// </summary>
    public static IEnumerable<(T First, T Duplicate)> Duplicates<T>(IEnumerable<T> plugins, Func<T, string> id, Func<T, string> typeName)
    {
        foreach (var group in plugins.Where(p => id(p).Length > 0).OrderBy(id, StringComparer.Ordinal).ThenBy(typeName, StringComparer.Ordinal).GroupBy(id, StringComparer.Ordinal))
        {
            var members = group.ToList();
            for (var i = 1; i < members.Count; i++)
            {
                yield return (members[0], members[i]);
            }
        }
    }

    public static string Display(INamedTypeSymbol type) => type.ToDisplayString(DisplayFormat);

    private static void CheckShape(INamedTypeSymbol type, string display, PluginCheck check)
    {
        var reasons = new List<string>();
        for (var current = type; current is not null; current = current.ContainingType)
        {
            if (current.DeclaredAccessibility != Accessibility.Public)
            {
                reasons.Add(ReferenceEquals(current, type) ? "not public" : $"nested in the non-public type {current.Name}");
                break;
            }
        }

        if (type.IsStatic)
        {
            reasons.Add("static");
        }
        else if (type.IsAbstract)
        {
            reasons.Add("abstract");
        }

        for (var current = type; current is not null; current = current.ContainingType)
        {
            if (current.TypeParameters.Length > 0)
            {
                reasons.Add(ReferenceEquals(current, type) ? "generic" : $"nested in the generic type {current.Name}");
                break;
            }
        }

        if (reasons.Count > 0)
        {
            check.IsReferenceable = false;
            check.Violations.Add(new RuleViolation(ComposeDiagnostics.PluginNotComposable, FirstLocation(type), ImmutableArray.Create<object?>(display, string.Join(" and ", reasons))));
        }
    }

    private static void CheckInterface(INamedTypeSymbol type, string display, Compilation compilation, PluginCheck check)
    {
        var pluginInterface = compilation.GetTypeByMetadataName(PluginInterfaceName);
        if (pluginInterface is not null && type.AllInterfaces.Contains(pluginInterface, SymbolEqualityComparer.Default))
        {
            var exit = pluginInterface.GetMembers(DiagnosticIds.ExitAsyncName).FirstOrDefault();
            var implementation = exit is null ? null : type.FindImplementationForInterfaceMember(exit);
            check.HasExitAsync = implementation is not null && implementation.ContainingType.TypeKind != TypeKind.Interface;
            check.ImplementsInterface = true;
            return;
        }

        // A base type or interface the compiler cannot find may well be IServerPlugin: the compiler reports it.
        if (HasUnresolvedBase(type))
        {
            check.HasCompilerErrors = true;
            return;
        }

        check.Violations.Add(new RuleViolation(ComposeDiagnostics.MissingInterface, FirstLocation(type), ImmutableArray.Create<object?>(display)));
    }

    private static void CheckConstructor(INamedTypeSymbol type, string display, PluginCheck check)
    {
        if (type.IsStatic || type.IsAbstract)
        {
            return; // CMP0003 already says the class cannot be constructed.
        }

        var constructors = type.InstanceConstructors.Where(c => c.DeclaredAccessibility == Accessibility.Public).ToList();
        if (constructors.Count == 0)
        {
            check.Violations.Add(new RuleViolation(ComposeDiagnostics.NoPublicConstructor, FirstLocation(type), ImmutableArray.Create<object?>(display)));
            return;
        }

        if (constructors.Count > 1)
        {
            foreach (var extra in constructors.OrderBy(c => c.Locations.FirstOrDefault()?.SourceSpan.Start ?? 0).Skip(1))
            {
                check.Violations.Add(new RuleViolation(ComposeDiagnostics.SeveralPublicConstructors, FirstLocation(extra, type), ImmutableArray.Create<object?>(display, constructors.Count)));
            }

            return;
        }

        var dependencies = ImmutableArray.CreateBuilder<DependencyModel>();
        foreach (var parameter in constructors[0].Parameters)
        {
            if (IsUnresolved(parameter.Type))
            {
                check.HasCompilerErrors = true;
                continue;
            }

            var problem = parameter.IsParams ? "a params parameter"
                : parameter.RefKind switch
                {
                    RefKind.None => parameter.Type.TypeKind is TypeKind.Pointer or TypeKind.FunctionPointer ? "a pointer" : null,
                    RefKind.Ref => "a ref parameter",
                    RefKind.Out => "an out parameter",
                    RefKind.In => "an in parameter",
                    _ => "a by-reference parameter",
                };
            if (problem is not null)
            {
                var location = parameter.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax().GetLocation() ?? FirstLocation(parameter, type);
                check.Violations.Add(new RuleViolation(ComposeDiagnostics.UninjectableParameter, location, ImmutableArray.Create<object?>(display, parameter.Name, problem)));
                continue;
            }

            dependencies.Add(new DependencyModel(
                parameter.Type.WithNullableAnnotation(NullableAnnotation.NotAnnotated).ToDisplayString(TypeFormat),
                ServiceKeyOf(parameter),
                parameter.HasExplicitDefaultValue && parameter.ExplicitDefaultValue is null,
                parameter.Name));
        }

        check.Dependencies = dependencies.ToImmutable().ToEquatableArray();
    }

    private static void CheckConfigureServices(INamedTypeSymbol type, string display, PluginCheck check)
    {
        // The nearest type that declares ConfigureServices wins, so a shared base class can provide it.
        var candidates = new List<IMethodSymbol>();
        for (var current = type; current is not null && candidates.Count == 0; current = current.BaseType)
        {
            candidates.AddRange(current.GetMembers(DiagnosticIds.ConfigureServicesName).OfType<IMethodSymbol>().Where(m => m.MethodKind == MethodKind.Ordinary));
        }

        var problems = new List<RuleViolation>();
        foreach (var method in candidates)
        {
            if (IsUnresolved(method.ReturnType) || method.Parameters.Any(p => IsUnresolved(p.Type)))
            {
                check.HasCompilerErrors = true; // The compiler reports the missing type; maybe this is the right signature.
                return;
            }

            var problem = ConfigureServicesProblem(method, display, FirstLocation(method, type));
            if (problem is null)
            {
                check.HasConfigureServices = true;
                return;
            }

            problems.Add(problem.Value);
        }

        check.Violations.AddRange(problems);
    }

    /// <summary>The first mistake in a method named ConfigureServices, or null for the right signature.</summary>
    private static RuleViolation? ConfigureServicesProblem(IMethodSymbol method, string display, Location location)
    {
        DiagnosticDescriptor? descriptor = null;
        object? argument = null;
        var parameters = method.Parameters;
        if (parameters.Length != 2)
        {
            descriptor = ComposeDiagnostics.ConfigureServicesParameterCount;
            argument = parameters.Length switch
            {
                0 => "no parameters",
                1 => "one parameter",
                _ => $"{parameters.Length} parameters",
            };
        }
        else if (parameters.All(p => p.RefKind == RefKind.None) && Is(parameters[0].Type, ConfigurationName) && Is(parameters[1].Type, ServiceCollectionName))
        {
            descriptor = ComposeDiagnostics.ConfigureServicesParametersSwapped;
        }
        else if (parameters.Any(p => p.RefKind != RefKind.None || p.IsParams) || !Is(parameters[0].Type, ServiceCollectionName) || !Is(parameters[1].Type, ConfigurationName))
        {
            descriptor = ComposeDiagnostics.ConfigureServicesParameterTypes;
            argument = string.Join(", ", parameters.Select(p => p.ToDisplayString(MethodFormat)));
        }
        else if (!method.IsStatic)
        {
            descriptor = ComposeDiagnostics.ConfigureServicesNotStatic;
        }
        else if (method.DeclaredAccessibility != Accessibility.Public)
        {
            descriptor = ComposeDiagnostics.ConfigureServicesNotPublic;
            argument = AccessibilityText(method.DeclaredAccessibility);
        }
        else if (!method.ReturnsVoid)
        {
            descriptor = ComposeDiagnostics.ConfigureServicesReturnType;
            argument = method.ReturnType.ToDisplayString(MethodFormat);
        }
        else if (method.TypeParameters.Length > 0)
        {
            descriptor = ComposeDiagnostics.ConfigureServicesGeneric;
        }

        return descriptor is null
            ? null
            : new RuleViolation(descriptor, location, argument is null ? ImmutableArray.Create<object?>(display) : ImmutableArray.Create<object?>(display, argument));
    }

    /// <summary>
    /// CMP0012: methods of the plugin class that look like ConfigureServices or ExitAsync but that Compose would never
    /// call, so the mistake would only show at run time (missing services, no clean-up).
    /// </summary>
    private static void CheckNearMisses(INamedTypeSymbol type, string display, PluginCheck check)
    {
        var hasConfigureServicesName = type.GetMembers(DiagnosticIds.ConfigureServicesName).Any();
        foreach (var member in type.GetMembers())
        {
            if (member is not IMethodSymbol { MethodKind: MethodKind.Ordinary, IsOverride: false, ExplicitInterfaceImplementations.IsEmpty: true } method
                || method.IsImplicitlyDeclared
                || IsUnresolved(method.ReturnType)
                || method.Parameters.Any(p => IsUnresolved(p.Type)))
            {
                continue;
            }

            var intended = (string?)null;
            if (!check.HasConfigureServices && !hasConfigureServicesName && IsNearName(method.Name, DiagnosticIds.ConfigureServicesName, 3)
                && (method.IsStatic || method.Parameters.Any(p => Is(p.Type, ServiceCollectionName) || Is(p.Type, ConfigurationName))))
            {
                intended = DiagnosticIds.ConfigureServicesName;
            }
            else if (check.ImplementsInterface && !check.HasExitAsync && LooksLikeExitAsync(method))
            {
                intended = DiagnosticIds.ExitAsyncName;
            }

            if (intended is null)
            {
                continue;
            }

            check.Violations.Add(new RuleViolation(
                intended == DiagnosticIds.ConfigureServicesName ? ComposeDiagnostics.NearMissConfigureServices : ComposeDiagnostics.NearMissExitAsync,
                FirstLocation(method, type),
                ImmutableArray.Create<object?>(display, "'" + method.ToDisplayString(MethodFormat) + "'"),
                ImmutableDictionary<string, string?>.Empty.Add(DiagnosticIds.IntendedMethodProperty, intended)));
        }
    }

    private static bool LooksLikeExitAsync(IMethodSymbol method)
    {
        if (method.Parameters.Length > 1 || (method.Parameters.Length == 1 && !Is(method.Parameters[0].Type, CancellationTokenName)))
        {
            return false;
        }

        // The exact name with a near signature (no token, static, not public, void...), or a near name.
        return method.Name == DiagnosticIds.ExitAsyncName
               || string.Equals(method.Name, "Exit", StringComparison.OrdinalIgnoreCase)
               || IsNearName(method.Name, DiagnosticIds.ExitAsyncName, 2);
    }

    /// <summary>Whether <paramref name="name"/> is <paramref name="target"/> in another case or within a few typos of it.</summary>
    internal static bool IsNearName(string name, string target, int maxDistance)
        => name != target && Math.Abs(name.Length - target.Length) <= maxDistance && Distance(name.ToLowerInvariant(), target.ToLowerInvariant()) <= maxDistance;

    /// <summary>The Damerau–Levenshtein (optimal string alignment) distance: insertions, deletions, substitutions, swaps.</summary>
    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }

    private static bool HasUnresolvedBase(INamedTypeSymbol type)
    {
        for (var current = type; current is not null; current = current.BaseType)
        {
            if (current.TypeKind == TypeKind.Error || current.Interfaces.Any(i => i.TypeKind == TypeKind.Error || i.AllInterfaces.Any(b => b.TypeKind == TypeKind.Error)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether the type, or a type argument or element type in it, is one the compiler could not find.</summary>
    private static bool IsUnresolved(ITypeSymbol type) => type switch
    {
        { TypeKind: TypeKind.Error } => true,
        IArrayTypeSymbol array => IsUnresolved(array.ElementType),
        IPointerTypeSymbol pointer => IsUnresolved(pointer.PointedAtType),
        INamedTypeSymbol { IsGenericType: true } named => named.TypeArguments.Any(IsUnresolved),
        _ => false,
    };

    private static bool Is(ITypeSymbol type, string fullName) => type.ToDisplayString() == fullName;

    private static Location FirstLocation(ISymbol symbol, ISymbol? fallback = null)
        => symbol.Locations.FirstOrDefault(l => l.IsInSource)
           ?? fallback?.Locations.FirstOrDefault(l => l.IsInSource)
           ?? symbol.Locations.FirstOrDefault()
           ?? Location.None;

    private static string? ServiceKeyOf(IParameterSymbol parameter)
    {
        foreach (var attribute in parameter.GetAttributes())
        {
            if (attribute.AttributeClass?.ToDisplayString() == FromKeyedServicesName
                && attribute.ConstructorArguments.Length == 1
                && attribute.ConstructorArguments[0].Kind == TypedConstantKind.Primitive)
            {
                return attribute.ConstructorArguments[0].ToCSharpString();
            }
        }

        return null;
    }

    private static string AccessibilityText(Accessibility accessibility) => accessibility switch
    {
        Accessibility.Private => "private",
        Accessibility.Internal => "internal",
        Accessibility.Protected => "protected",
        Accessibility.ProtectedOrInternal => "protected internal",
        Accessibility.ProtectedAndInternal => "private protected",
        _ => "not public",
    };

    private static string KindName(INamedTypeSymbol type) => type.TypeKind switch
    {
        TypeKind.Struct => type.IsRecord ? "record struct" : "struct",
        TypeKind.Interface => "interface",
        TypeKind.Enum => "enum",
        TypeKind.Delegate => "delegate",
        _ => type.TypeKind.ToString().ToLowerInvariant(),
    };
}
