function New-BmsWavePlan {
    <#
    .SYNOPSIS
    Plans the license waves: the pilot (test) group first, then waves bounded by Intune seats and size.

    .DESCRIPTION
    Builds the migration schedule from the readiness-checked snapshot and writes plan.json,
    plan.csv and plan.xlsx into the workspace. Wave 0 is the pilot group; then the step that
    assigns the Intune policies to their recommended groups; then waves 1..n, each at most
    -WaveSize users (and -MaxDevices devices) and never more than the free Intune seats. Users who
    cannot be licensed yet are held back with the reason, never dropped. With -FromEdited, an
    admin's edited plan workbook is validated against the same rules and becomes the plan.

    Outputs one Bms2Intune.Wave per wave (number, date, users, devices by platform, license
    group). Warnings summarise the users held back or left unplaced (no free seat), every rule an
    edited plan breaks, and the changes against the previous plan; the planner's notes go to the
    verbose stream. Export-BmsWavePlan gives the full plan with every user.

    .PARAMETER Workspace
    Workspace folder. Default: $env:BMS2INTUNE_WORKSPACE, else .\bms2intune-work.

    .PARAMETER PilotGroup
    Display name(s) of the pilot (test) group(s) for wave 0. Accepts group objects (DisplayName)
    through the pipeline, e.g. from Get-MgGroup.

    .PARAMETER NoPilot
    Plan without a pilot wave (not recommended).

    .PARAMETER WaveSize
    Maximum users per wave.

    .PARAMETER MaxDevices
    Maximum devices per wave.

    .PARAMETER KeepTogether
    Keep users sharing this key in one wave where it fits: group, department, office or manager.

    .PARAMETER Order
    Values to plan first, in this order (e.g. department names): users matching the first value
    come first, then the second, then everyone else.

    .PARAMETER OrderBy
    The attribute -Order lists values of: department, office, manager or group. Default: the
    -KeepTogether key.

    .PARAMETER Seats
    Free Intune seats to plan with, instead of the snapshot's enabled minus consumed counts (for
    example after buying licenses).

    .PARAMETER Start
    Date of the pilot wave.

    .PARAMETER Every
    Days between waves.

    .PARAMETER SoakDays
    Days to wait after the pilot before wave 1.

    .PARAMETER SkipUnsupported
    Hold back users all of whose devices Intune does not support.

    .PARAMETER CalendarDays
    Allow waves on Saturdays and Sundays (default: business days only).

    .PARAMETER Holiday
    Dates no wave may fall on; a wave landing on one moves to the next working day.

    .PARAMETER GroupPattern
    Name of each wave's license group: {nn} is the two-digit wave number, {n} the wave number.
    Default: 'BMS2Intune Wave {nn}'.

    .PARAMETER FromEdited
    An edited plan workbook (.xlsx) or CSV to validate and adopt as the plan.

    .EXAMPLE
    New-BmsWavePlan -Workspace .\work -PilotGroup 'BMS Pilot' -WaveSize 200 -KeepTogether department -Start 2026-12-01 -Every 7 -SoakDays 14

    Plans the 'BMS Pilot' group on 1 December 2026, then, after two weeks of soak time, waves of
    at most 200 users a week apart, keeping departments together.

    .EXAMPLE
    New-BmsWavePlan -Workspace .\work -NoPilot -MaxDevices 500 -KeepTogether office -OrderBy department -Order Sales, Finance -SkipUnsupported -Seats 400 -CalendarDays -Holiday 2026-12-24, 2026-12-31 -GroupPattern 'Intune wave {n}'

    Plans without a pilot (not recommended): at most 500 devices per wave and 400 seats in all,
    offices kept together, Sales then Finance first, weekends allowed but not the two holidays,
    license groups named 'Intune wave 1', 'Intune wave 2', ...; users whose devices Intune does
    not support are held back.

    .EXAMPLE
    New-BmsWavePlan -Workspace .\work -FromEdited .\plan-edited.xlsx

    Adopts the admin's edited plan after checking it against the same rules; the change report
    comes as warnings.

    .INPUTS
    Objects with a DisplayName (groups) for -PilotGroup.

    .OUTPUTS
    Bms2Intune.Wave

    .LINK
    about_Bms2Intune
    #>
    [CmdletBinding(SupportsShouldProcess, DefaultParameterSetName = 'Plan')]
    [OutputType('Bms2Intune.Wave')]
    param(
        [string] $Workspace,

        [Parameter(ParameterSetName = 'Plan', ValueFromPipeline, ValueFromPipelineByPropertyName)]
        [Alias('DisplayName')]
        [ValidateNotNullOrEmpty()]
        [string[]] $PilotGroup,

        [Parameter(ParameterSetName = 'Plan')]
        [switch] $NoPilot,

        [Parameter(ParameterSetName = 'Plan')]
        [ValidateRange(1, 10000000)]
        [int] $WaveSize,

        [Parameter(ParameterSetName = 'Plan')]
        [ValidateRange(1, 10000000)]
        [int] $MaxDevices,

        [Parameter(ParameterSetName = 'Plan')]
        [ValidateSet('group', 'department', 'office', 'manager')]
        [string] $KeepTogether,

        [Parameter(ParameterSetName = 'Plan')]
        [ValidateNotNullOrEmpty()]
        [string[]] $Order,

        [Parameter(ParameterSetName = 'Plan')]
        [ValidateSet('group', 'department', 'office', 'manager')]
        [string] $OrderBy,

        [Parameter(ParameterSetName = 'Plan')]
        [ValidateRange(0, 100000000)]
        [int] $Seats,

        [Parameter(ParameterSetName = 'Plan')]
        [datetime] $Start,

        [Parameter(ParameterSetName = 'Plan')]
        [ValidateRange(1, 365)]
        [int] $Every,

        [Parameter(ParameterSetName = 'Plan')]
        [ValidateRange(0, 365)]
        [int] $SoakDays,

        [Parameter(ParameterSetName = 'Plan')]
        [switch] $SkipUnsupported,

        [Parameter(ParameterSetName = 'Plan')]
        [switch] $CalendarDays,

        [Parameter(ParameterSetName = 'Plan')]
        [datetime[]] $Holiday,

        [Parameter(ParameterSetName = 'Plan')]
        [ValidateNotNullOrEmpty()]
        [string] $GroupPattern,

        [Parameter(Mandatory, ParameterSetName = 'FromEdited')]
        [ValidateScript({ Test-Path -LiteralPath $_ -PathType Leaf })]
        [string] $FromEdited
    )
    begin {
        $pilots = New-Object System.Collections.Generic.List[string]
        $invariant = [System.Globalization.CultureInfo]::InvariantCulture
    }
    process {
        foreach ($g in $PilotGroup) { if (-not $pilots.Contains($g)) { $pilots.Add($g) } }
    }
    end {
        try {
            $ws = Resolve-BmsWorkspace -Workspace $Workspace
            $params = [ordered]@{}
            $params['workspace'] = $ws
            if ($PSCmdlet.ParameterSetName -eq 'FromEdited') {
                $params['from_edited'] = Resolve-BmsPath -Path $FromEdited
            } else {
                if ($pilots.Count -gt 0) { $params['pilot_groups'] = $pilots.ToArray() }
                if ($NoPilot) { $params['no_pilot'] = $true }
                if ($PSBoundParameters.ContainsKey('WaveSize')) { $params['wave_size'] = $WaveSize }
                if ($PSBoundParameters.ContainsKey('MaxDevices')) { $params['max_devices'] = $MaxDevices }
                if ($PSBoundParameters.ContainsKey('Seats')) { $params['seats'] = $Seats }
                if ($SkipUnsupported) { $params['skip_unsupported'] = $true }
                if ($KeepTogether) { $params['keep_together'] = $KeepTogether }
                if ($Order) {
                    # The binary's form: KEY=V1,V2 (without KEY= it uses the keep-together key).
                    $values = ($Order | ForEach-Object { $_.Trim() }) -join ','
                    if ($OrderBy) { $params['order'] = "$OrderBy=$values" } else { $params['order'] = $values }
                }
                if ($PSBoundParameters.ContainsKey('Start')) { $params['start'] = $Start.ToString('yyyy-MM-dd', $invariant) }
                if ($PSBoundParameters.ContainsKey('Every')) { $params['every'] = $Every }
                if ($PSBoundParameters.ContainsKey('SoakDays')) { $params['soak_days'] = $SoakDays }
                if ($CalendarDays) { $params['calendar_days'] = $true }
                if ($Holiday) { $params['holidays'] = @($Holiday | ForEach-Object { $_.ToString('yyyy-MM-dd', $invariant) }) }
                if ($GroupPattern) { $params['group_pattern'] = $GroupPattern }
            }
            if (-not $PSCmdlet.ShouldProcess($ws, 'Write the wave plan (plan.json, plan.csv, plan.xlsx)')) { return }
            $result = Invoke-BmsRpc -Command 'plan' -Params $params

            $t = $result.totals
            Write-Verbose -Message ('Plan: {0} users to license in {1} waves after a pilot of {2}; {3} already migrated.' -f $t.planned, $t.waves, $t.pilot, $t.already_migrated)
            if ($t.held_back -gt 0) {
                Write-Warning -Message "$($t.held_back) user(s) held back (no usage location, or only unsupported devices); see the Held back sheet of plan.xlsx (Export-BmsWavePlan)."
            }
            if ($t.unplaced -gt 0) {
                Write-Warning -Message "$($t.unplaced) user(s) unplaced: the free Intune seats ran out (-Seats after buying licenses)."
            }
            foreach ($v in (ConvertTo-BmsArray $result.violations)) {
                $who = ''
                if ($v.upn) { $who = " $($v.upn):" }
                Write-Warning -Message ('[{0}]{1} {2}' -f $v.code, $who, $v.message)
            }
            foreach ($n in (ConvertTo-BmsArray $result.notes)) {
                Write-Verbose -Message ('[{0}] {1}' -f $n.code, $n.message)
            }
            $c = $result.changes
            if ($c) {
                Write-Warning -Message ('Changes against the previous plan: {0} user(s) moved, {1} added, {2} removed, {3} changed status; {4} wave(s) changed.' -f $c.users_moved, $c.users_added, $c.users_removed, $c.users_status_changed, @($c.waves).Count)
            }
            foreach ($w in (ConvertTo-BmsArray $result.waves)) {
                $d = $w.devices
                [pscustomobject][ordered]@{
                    PSTypeName   = 'Bms2Intune.Wave'
                    Number       = [int]$w.number
                    Pilot        = [bool]$w.pilot
                    Date         = $w.date
                    LicenseGroup = $w.group
                    UserCount    = $w.user_count
                    DeviceCount  = $w.device_count
                    Ios          = [int]$d.ios
                    Android      = [int]$d.android
                    Windows      = [int]$d.windows
                    Pinned       = $w.pinned
                    Workspace    = $ws
                }
            }
        } catch {
            $PSCmdlet.ThrowTerminatingError($_)
        }
    }
}
